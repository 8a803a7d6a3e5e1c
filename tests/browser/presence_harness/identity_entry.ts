// Only fetchIdentity(), for the tests of who a page says it is (with or without a Jupyter server behind it).
import { fetchIdentity } from "../../../labextension/src/presence";

(window as any).identity = await fetchIdentity();
