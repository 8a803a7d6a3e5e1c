// The `isproj` shared model (a YDocument whose roots are the project schema's, generated into roots.ts) and
// the document model a Studio tab's context holds. The room's server-side document owns loading and saving
// (DESIGN.md D2): this side never writes the JSON text, it only edits the Y document.
import { DocumentChange, YDocument } from "@jupyter/ydoc";
import { DocumentRegistry } from "@jupyterlab/docregistry";
import { Contents } from "@jupyterlab/services";
import { ISignal, Signal } from "@lumino/signaling";
import * as Y from "yjs";
import { ROOTS, RootName } from "./roots";

export const CONTENT_TYPE = "isproj";
export const MODEL_NAME = "imagestudio-isproj";

export interface IsprojChange extends DocumentChange {
  /** Roots whose content changed in the transaction. */
  rootsChanged?: RootName[];
}

export class IsprojDoc extends YDocument<IsprojChange> {
  readonly roots: Record<RootName, Y.Map<unknown> | Y.Array<unknown>>;

  constructor(options?: YDocument.IOptions) {
    super(options);
    const roots = {} as Record<RootName, Y.Map<unknown> | Y.Array<unknown>>;
    for (const [name, kind] of Object.entries(ROOTS) as [RootName, string][]) {
      roots[name] = kind === "Map" ? this.ydoc.getMap(name) : this.ydoc.getArray(name);
    }
    this.roots = roots;
    this.ydoc.on("afterTransaction", this.onTransaction);
  }

  get version(): string {
    return "1.0.0";
  }

  /** The document as JSON text (for Open With's viewers and `toString`; the server writes the file). */
  getSource(): string {
    const data: Record<string, unknown> = {};
    for (const [name, root] of Object.entries(this.roots)) data[name] = root.toJSON();
    return JSON.stringify(data, null, 1);
  }

  setSource(_value: string): void {
    // Loading from text would replace the Y items every other client holds; the server merges files.
    throw new Error("an .isproj document is loaded by the server; edit it in the Studio tab");
  }

  dispose(): void {
    this.ydoc.off("afterTransaction", this.onTransaction);
    super.dispose();
  }

  private onTransaction = (transaction: Y.Transaction): void => {
    const changed = (Object.entries(this.roots) as [RootName, Y.AbstractType<any>][])
      .filter(([, root]) => transaction.changedParentTypes.has(root) || transaction.changed.has(root))
      .map(([name]) => name);
    if (changed.length) this._changed.emit({ rootsChanged: changed });
  };
}

/** What a Studio tab's context holds: the shared model, read-only and dirty state, no text of its own. */
export class IsprojModel implements DocumentRegistry.IModel {
  readonly collaborative = true;
  readonly defaultKernelName = "";
  readonly defaultKernelLanguage = "";
  readonly sharedModel: IsprojDoc;
  private _readOnly = false;
  private _disposed = false;
  private _contentChanged = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, any>(this);

  constructor(sharedModel?: IsprojDoc) {
    this.sharedModel = sharedModel ?? new IsprojDoc();
    this.sharedModel.changed.connect(this.onChange, this);
  }

  get contentChanged(): ISignal<this, void> { return this._contentChanged; }
  get stateChanged(): ISignal<this, any> { return this._stateChanged; }
  get dirty(): boolean { return this.sharedModel.dirty; }
  set dirty(value: boolean) { this.sharedModel.dirty = value; }
  get readOnly(): boolean { return this._readOnly; }
  set readOnly(value: boolean) {
    if (value === this._readOnly) return;
    const oldValue = this._readOnly;
    this._readOnly = value;
    this._stateChanged.emit({ name: "readOnly", oldValue, newValue: value });
  }
  get isDisposed(): boolean { return this._disposed; }

  toString(): string { return this.sharedModel.getSource(); }
  fromString(value: string): void { this.sharedModel.setSource(value); }
  toJSON(): any { return JSON.parse(this.toString()); }
  fromJSON(value: any): void { this.fromString(JSON.stringify(value)); }
  initialize(): void { /* the room's first sync fills the document */ }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.sharedModel.changed.disconnect(this.onChange, this);
    Signal.clearData(this);
  }

  private onChange(_: IsprojDoc, change: IsprojChange): void {
    if (change.rootsChanged) this._contentChanged.emit();
    for (const state of change.stateChange ?? []) {
      if (state.oldValue !== state.newValue) this._stateChanged.emit(state);
    }
  }
}

export class IsprojModelFactory implements DocumentRegistry.IModelFactory<IsprojModel> {
  readonly name = MODEL_NAME;
  readonly contentType: Contents.ContentType = CONTENT_TYPE;
  readonly fileFormat: Contents.FileFormat = "text";
  readonly collaborative = true;
  private _disposed = false;

  get isDisposed(): boolean { return this._disposed; }
  dispose(): void { this._disposed = true; }
  preferredLanguage(_path: string): string { return ""; }

  createNew(options: DocumentRegistry.IModelOptions<IsprojDoc>): IsprojModel {
    return new IsprojModel(options.sharedModel);
  }
}
