// Image Studio's JupyterLab extension: the `isproj` shared model for jupyter-collaboration, .isproj files
// opened as Studio tabs by default (Open With still offers the JSON editor), and the rooms bridge through
// which the notebook widgets join a project's room (DESIGN.md D2).
import { ICollaborativeContentProvider } from "@jupyter/collaborative-drive";
import { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { Rooms } from "./bridge";
import { CONTENT_TYPE, IsprojDoc, IsprojModelFactory, MODEL_NAME } from "./model";
import { FACTORY, StudioFactory } from "./tab";

const plugin: JupyterFrontEndPlugin<void> = {
  id: "imagestudio-nb-lab:plugin",
  description: "Opens Image Studio projects (.isproj) as collaborative Studio tabs.",
  autoStart: true,
  requires: [ICollaborativeContentProvider],
  activate: (app: JupyterFrontEnd, drive: ICollaborativeContentProvider) => {
    const settings = app.serviceManager.serverSettings;
    const rooms = new Rooms(settings, app.serviceManager.user);
    (globalThis as any)[Symbol.for("imagestudio.rooms")] = rooms;
    drive.sharedModelFactory.registerDocumentFactory(CONTENT_TYPE, () => new IsprojDoc());
    app.docRegistry.addFileType({
      name: CONTENT_TYPE, displayName: "Image Studio project", extensions: [".isproj"],
      mimeTypes: ["application/json"], contentType: CONTENT_TYPE, fileFormat: "text",
    });
    app.docRegistry.addModelFactory(new IsprojModelFactory());
    app.docRegistry.addWidgetFactory(new StudioFactory({
      name: FACTORY, label: "Studio", modelName: MODEL_NAME, fileTypes: [CONTENT_TYPE], defaultFor: [CONTENT_TYPE],
      contentProviderId: "rtc",  // jupyter-collaboration's content provider: the room loads and saves the file
    }, rooms, drive, settings));
  },
};

export default plugin;
