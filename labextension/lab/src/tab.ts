// The Studio tab: an .isproj document opened as the canvas editor. It runs the notebook widget's own canvas
// bundle (imagestudio_nb/widgets/static/canvas.js, served by studio_api) through its `mountCanvas`, with an
// HTTP channel to the server's Canvas; the canvas joins the room through the bridge, which hands it this
// tab's shared model (registered here by path).
import { ICollaborativeContentProvider } from "@jupyter/collaborative-drive";
import { URLExt } from "@jupyterlab/coreutils";
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget, IDocumentWidget } from "@jupyterlab/docregistry";
import { ServerConnection } from "@jupyterlab/services";
import { Widget } from "@lumino/widgets";
import { Room, Rooms, stateTracker } from "./bridge";
import { HttpChannel } from "./channel";
import { CONTENT_TYPE, IsprojModel } from "./model";

export const FACTORY = "Studio";

type Mounted = { dispose(): void; setReadOnly(reason: string | null): void };
type Mount = (host: HTMLElement, options: { channel: HttpChannel; documentPath: string; height?: number }) => Mounted;

let canvasModule: Promise<{ mountCanvas?: Mount }> | null = null;

/** The widget bundle, loaded once per page from the server (the same file the notebook widget runs). */
function loadCanvas(settings: ServerConnection.ISettings): Promise<{ mountCanvas?: Mount }> {
  if (!canvasModule) {
    const base = URLExt.join(settings.baseUrl, "imagestudio/static");
    if (!document.querySelector("link[data-imagestudio-css]")) {
      document.head.append(Object.assign(document.createElement("link"),
        { rel: "stylesheet", href: `${base}/studio.css` }));
      document.head.lastElementChild!.setAttribute("data-imagestudio-css", "1");
    }
    canvasModule = import(/* webpackIgnore: true */ `${base}/canvas.js`);
  }
  return canvasModule;
}

class StudioPanel extends Widget {
  private mounted: Mounted | null = null;
  private removeRoom: () => void;

  constructor(context: DocumentRegistry.IContext<IsprojModel>, rooms: Rooms,
              drive: ICollaborativeContentProvider, settings: ServerConnection.ISettings) {
    super();
    this.addClass("is-lab-studio");
    this.node.style.overflow = "auto";
    this.node.dataset.path = context.path;
    const tracker = stateTracker();
    const room: Room = { doc: context.model.sharedModel, ready: context.ready, state: tracker.state, onState: tracker.on };
    this.removeRoom = rooms.addTab(context.path, room);
    context.ready.then(async () => {
      const provider = drive.providers.get(`text:${CONTENT_TYPE}:${context.path}`) as any;
      if (provider?.wsProvider) tracker.follow(provider.wsProvider);
      else tracker.set("connected");
      const module = await loadCanvas(settings);
      if (this.isDisposed) return;
      if (typeof module.mountCanvas !== "function") {
        throw new Error("this build of the Image Studio canvas has no mountCanvas; rebuild it (make install)");
      }
      const channel = new HttpChannel(settings, context.path);
      this.node.append(this.banner);
      this.mounted = module.mountCanvas(this.node, { channel, documentPath: context.path, height: this.bodyHeight });
      this.fitEditor();
      // Say so when this user may not change the project: the server refuses their edits (the role it enforces).
      const roles = context.model.sharedModel.roots.roles;
      const showRole = () => channel.request("role").then(([reply]) => this.showRole(reply.result)).catch(() => undefined);
      roles.observe(showRole);
      this.stopRoles = () => roles.unobserve(showRole);
      void showRole();
    }).catch((error) => {
      console.error("Image Studio:", error);
      this.node.textContent = `The Studio could not open ${context.path}: ${error?.message ?? error}`;
      this.node.dataset.error = "1";
    });
  }

  private bodyHeight = 560;
  private banner = Object.assign(document.createElement("div"), { className: "is-lab-readonly", hidden: true });
  private stopRoles = () => undefined as void;

  private showRole(info: { role: string; username: string | null; writes: boolean }): void {
    this.banner.dataset.role = info.role;
    this.banner.hidden = info.writes;
    this.banner.dataset.writes = String(info.writes);
    const who = `${info.username ?? "you"} ${info.role === "viewer" ? "is a viewer" : `is a ${info.role}`} of this project`;
    this.banner.textContent = info.writes ? "" : `View only: ${who}, so the tools that change it are off (the ` +
      "server refuses such changes, exports included). Panning, zooming and the colour picker work. Ask an owner for " +
      "the editor role.";
    // The canvas keeps only the tools that change nothing, so nothing is drawn that would not be kept.
    this.mounted?.setReadOnly(info.writes ? null : `View only: ${who}; ask an owner for the editor role.`);
    Object.assign(this.banner.style, { padding: "4px 8px", margin: "2px 0 4px", borderRadius: "4px",
      background: "#fef3c7", color: "#78350f", border: "1px solid #f59e0b", fontSize: "12px" });
    this.fitEditor();
  }

  /** Size the editor's body so that its toolbar, canvas and status line fill the tab without scrolling. */
  private fitEditor(): void {
    const root = this.node.querySelector<HTMLElement>(".is-canvas");
    if (!root || !this.node.clientHeight) return;
    const chrome = root.offsetHeight - this.bodyHeight + (this.banner.hidden ? 0 : this.banner.offsetHeight + 6);
    this.bodyHeight = Math.max(240, this.node.clientHeight - chrome - 4);
    root.style.setProperty("--is-height", `${this.bodyHeight}px`);  // the canvas's own height option, live
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this.fitEditor();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.removeRoom();
    this.stopRoles();
    this.mounted?.dispose();
    super.dispose();
  }
}

export class StudioFactory extends ABCWidgetFactory<IDocumentWidget<StudioPanel, IsprojModel>, IsprojModel> {
  constructor(options: DocumentRegistry.IWidgetFactoryOptions<IDocumentWidget<StudioPanel, IsprojModel>>,
              private rooms: Rooms, private drive: ICollaborativeContentProvider,
              private settings: ServerConnection.ISettings) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.IContext<IsprojModel>): IDocumentWidget<StudioPanel, IsprojModel> {
    const content = new StudioPanel(context, this.rooms, this.drive, this.settings);
    const widget = new DocumentWidget({ content, context });
    widget.addClass("is-lab-studio-tab");
    return widget;
  }
}
