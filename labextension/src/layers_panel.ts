// The Canvas's layers panel: the stack top first; add, drag to reorder, rename, hide, lock, opacity, blend
// mode, mask, duplicate, delete, and the deleted layers with Restore. Deleting and restoring are edits of the
// view's own document (soft delete, undoable by this view); the other changes call Project methods in the kernel.
import { ChannelLike } from "./comm";
import { BLEND_MODES } from "./drawing";
import { LayerView } from "./compositor";
import { StatusLine, button, el, focusQuietly, guarded, labelled, select } from "./ui";

/** What the layers panel needs of its canvas view. */
export interface LayersHost {
  readonly channel: ChannelLike;
  readonly status: StatusLine;
  selected(): string | null;
  select(id: string | null): void;
  newText(): void;
  backgroundTemplates(): string[];
  /** Soft-delete a layer (a Y edit with the view's origin). */
  remove(id: string): void;
  restore(id: string): void;
  /** A cut-out made masks: select the last one and the mask tool. */
  cutOut(masks: string[]): void;
}

/** "by ana, 14:02" (the time in the viewer's clock), for a deleted layer's row. */
function deletedWhen(layer: LayerView): string {
  const at = layer.deleted_at ? new Date(layer.deleted_at) : null;
  const time = at && !isNaN(at.getTime()) ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  return [layer.deleted_by ? `by ${layer.deleted_by}` : "", time].filter(Boolean).join(", ");
}

export class LayersPanel {
  readonly node = el("div", { class: "is-layers" });
  private list = el("ol", { class: "is-layer-list" });
  private props = el("div", { class: "is-layer-props" });
  private deletedList = el("ul", { class: "is-deleted-list" });
  private deletedCount = el("span", { class: "is-value" });
  private deletedBox = el("details", { class: "is-deleted-layers is-hidden", "data-role": "deleted-layers" },
    el("summary", {}, "Deleted layers ", this.deletedCount), this.deletedList);
  private layers: LayerView[] = [];
  private dragged: string | null = null;
  /** Layers marked with Shift+click, besides the selected one, for work on several at once (cut-outs). */
  private marked = new Set<string>();
  private channel: ChannelLike;
  private status: StatusLine;
  private getSelected: () => string | null;
  private select: (id: string | null) => void;
  private backgroundTemplates: () => string[];

  constructor(private host: LayersHost) {
    this.channel = host.channel;
    this.status = host.status;
    this.getSelected = () => host.selected();
    this.select = (id) => host.select(id);
    this.backgroundTemplates = () => host.backgroundTemplates();
    const call = (method: string, args: Record<string, unknown>) =>
      guarded(this.status, () => this.channel.call(method, args));
    const actions = el("div", { class: "is-layer-actions" },
      button("+ Paint", async () => this.select(await call("add_layer", { kind: "paint", name: "Paint" }) ?? this.getSelected()),
        { title: "Add a paint layer", "data-action": "add-paint" }),
      button("+ Text", () => host.newText(), { title: "Add a text layer (then click on the canvas)", "data-action": "add-text" }),
      button("+ Mask", async () => this.select(await call("add_layer", { kind: "mask", name: "Mask" }) ?? this.getSelected()),
        { title: "Add a mask layer for edits and inpainting", "data-action": "add-mask" }),
      this.uploadButton(),
      button("Duplicate", async () => {
        const id = this.getSelected();
        if (id) this.select(await call("duplicate_layer", { layer_id: id }) ?? id);
      }, { "data-action": "duplicate" }),
      button("Delete", () => {
        const id = this.getSelected();
        if (id) host.remove(id);
      }, { "data-action": "delete", title: "Delete the selected layer (it can be restored below; Undo brings it back too)" }),
    );
    this.node.append(this.list, actions, this.props, this.deletedBox);
    this.props.addEventListener("focusout", (e) => {
      if (this.propsDeferred && !this.props.contains(e.relatedTarget as Node | null)) {
        this.propsDeferred = false;
        this.update(this.layers, this.lastDeleted);
      }
    });
  }

  private uploadButton(): HTMLElement {
    const input = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp", class: "is-hidden" });
    input.addEventListener("change", async () => {
      const file = input.files?.[0];
      if (!file) return;
      const bytes = new Uint8Array(await file.arrayBuffer());
      const id = await guarded(this.status, () => this.channel.call("add_image_file", { name: file.name }, [bytes]));
      if (id) this.select(id);
      input.value = "";
    });
    return el("span", {}, input, button("Upload…", () => input.click(), { title: "Add an image file as a layer" }));
  }

  private rowsSignature = "";
  private propsSignature = "";
  private propsLayer: string | null = null;
  private propsDeferred = false;

  private lastDeleted: LayerView[] = [];

  update(layers: LayerView[], deleted: LayerView[] = []): void {
    this.layers = layers;
    this.lastDeleted = deleted;
    this.updateDeleted(deleted);
    const selected = this.getSelected();
    // Rows are rebuilt only when they would look different, so a double-click survives a selection change.
    const rows = JSON.stringify(layers.map((l) => [l.id, l.name, l.kind, l.visible, l.locked]));
    if (rows !== this.rowsSignature) {
      this.rowsSignature = rows;
      this.list.replaceChildren(...[...layers].reverse().map((layer) => this.row(layer, layer.id === selected)));
    } else {
      for (const row of this.list.querySelectorAll<HTMLElement>(".is-layer")) {
        row.classList.toggle("is-selected", row.dataset.layerId === selected);
      }
    }
    const layer = layers.find((l) => l.id === selected);
    const props = JSON.stringify(layer ? [[...this.marked], layer.text, layer.id, layer.name, layer.kind, layer.opacity, layer.blend_mode, layer.mask,
      !!layer.transform.crop, layers.filter((l) => l.kind === "mask").map((l) => [l.id, l.name])] : null);
    if (props !== this.propsSignature) {
      // A field of this layer's properties is being edited (here, or a change arrives from someone else):
      // redrawing now would throw away what is typed, so wait until the focus leaves the properties.
      if (layer && layer.id === this.propsLayer && this.props.contains(document.activeElement)) {
        this.propsDeferred = true;
      } else {
        this.propsSignature = props;
        this.propsLayer = layer?.id ?? null;
        this.renderProps(layer);
      }
    }
  }

  private deletedSignature = "";

  /** The deleted layers, newest first, each with Restore (strokes made on it meanwhile are kept). */
  private updateDeleted(deleted: LayerView[]): void {
    const signature = JSON.stringify(deleted.map((l) => [l.id, l.name, l.deleted_by, l.deleted_at]));
    if (signature === this.deletedSignature) return;
    this.deletedSignature = signature;
    this.deletedBox.classList.toggle("is-hidden", !deleted.length);
    this.deletedCount.textContent = `(${deleted.length})`;
    const newest = [...deleted].sort((a, b) => String(b.deleted_at).localeCompare(String(a.deleted_at)));
    this.deletedList.replaceChildren(...newest.map((layer) => el("li", { class: "is-deleted-layer", "data-layer-id": layer.id },
      el("span", { class: "is-layer-name", text: layer.name, title: layer.name }),
      button("Restore", () => this.host.restore(layer.id), { "data-action": "restore", title: "Bring the layer back where it was" }),
      el("span", { class: "is-muted is-deleted-meta", text: deletedWhen(layer),
        title: `deleted${layer.deleted_by ? ` by ${layer.deleted_by}` : ""}${layer.deleted_at ? ` at ${layer.deleted_at}` : ""}` }))));
  }

  private indexOf(id: string): number {
    return this.layers.findIndex((l) => l.id === id);
  }

  private row(layer: LayerView, selected: boolean): HTMLElement {
    const call = (method: string, args: Record<string, unknown>) =>
      guarded(this.status, () => this.channel.call(method, args));
    const name = el("span", { class: "is-layer-name", text: layer.name, title: "Double-click to rename" });
    name.addEventListener("dblclick", (event) => {
      event.stopPropagation();
      const input = el("input", { class: "is-layer-rename", value: layer.name });
      const commit = () => {
        const value = input.value.trim();
        if (value && value !== layer.name) call("update_layer", { layer_id: layer.id, name: value });
        input.replaceWith(name);
      };
      input.addEventListener("keydown", (e) => {
        e.stopPropagation();
        if (e.key === "Enter") commit();
        if (e.key === "Escape") input.replaceWith(name);
      });
      input.addEventListener("blur", commit);
      name.replaceWith(input);
      focusQuietly(input);
      input.select();
    });
    const eye = button(layer.visible ? "◉" : "○", (e) => {
      e.stopPropagation();
      call("update_layer", { layer_id: layer.id, visible: !layer.visible });
    }, { class: "is-icon", title: layer.visible ? "Hide" : "Show", "data-action": "visibility" });
    const lock = button(layer.locked ? "■" : "□", (e) => {
      e.stopPropagation();
      call("update_layer", { layer_id: layer.id, locked: !layer.locked });
    }, { class: "is-icon", title: layer.locked ? "Unlock" : "Lock", "data-action": "lock" });
    const row = el("li", {
      class: "is-layer" + (selected ? " is-selected" : "") + (layer.visible ? "" : " is-hidden-layer"),
      draggable: "true", "data-layer-id": layer.id, "data-kind": layer.kind,
    }, eye, lock, name, el("span", { class: "is-layer-kind", text: layer.kind }));
    if (this.marked.has(layer.id)) row.classList.add("is-marked");
    row.addEventListener("click", (e) => {
      if (e.shiftKey) {
        if (!this.marked.delete(layer.id)) this.marked.add(layer.id);
        row.classList.toggle("is-marked", this.marked.has(layer.id));
        this.propsSignature = "";
        this.update(this.layers);
        return;
      }
      this.select(layer.id);
    });
    row.addEventListener("dragstart", (e) => {
      this.dragged = layer.id;
      e.dataTransfer?.setData("text/plain", layer.id);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
    });
    row.addEventListener("dragover", (e) => { e.preventDefault(); row.classList.add("is-drop-target"); });
    row.addEventListener("dragleave", () => row.classList.remove("is-drop-target"));
    row.addEventListener("drop", (e) => {
      e.preventDefault();
      row.classList.remove("is-drop-target");
      const id = this.dragged || e.dataTransfer?.getData("text/plain");
      this.dragged = null;
      if (!id || id === layer.id) return;
      // Rows are shown top first: dropping onto a row puts the dragged layer at that row's stack position.
      call("move_layer", { layer_id: id, index: this.indexOf(layer.id) });
    });
    return row;
  }

  /** Cut out (one click, as a mask the mask tool refines) and replace the background. */
  private backgroundTools(layer: LayerView): HTMLElement {
    const images = this.layers.filter((l) => (l.kind === "image" || l.kind === "generated") &&
      (l.id === layer.id || this.marked.has(l.id)));
    const cut = button(images.length > 1 ? `Cut out ${images.length} layers` : "Cut out", async () => {
      this.status.busy(`Removing the background of ${images.length} layer${images.length === 1 ? "" : "s"}…`);
      const masks = await guarded(this.status, () => this.channel.call("remove_background", { layer_ids: images.map((l) => l.id) }));
      if (!masks) return;
      this.marked.clear();
      this.host.cutOut(masks);
      this.status.info(`Cut out as ${masks.length === 1 ? "a mask layer" : `${masks.length} mask layers`}; the image is unchanged. ` +
        "Refine with the Mask tool: “add” keeps, “remove” removes (Alt swaps).", 10000);
    }, { "data-action": "cut-out", disabled: !images.length,
      title: "Remove the background: a mask layer linked to the image (non-destructive). Shift+click layers to do several." });
    const replace = (background: string, buffers: Uint8Array[] = []) => guarded(this.status, async () => {
      const id = await this.channel.call("replace_background", { background, layer_id: layer.id }, buffers);
      this.status.info("Background added under the image; hide or delete it to go back.", 8000);
      return id;
    });
    const templates = select([["", "Background…"], ...this.backgroundTemplates().map((t) => [t, t] as [string, string])], "",
      (name) => { if (name) replace(name); templates.value = ""; }, { "data-action": "background-template", title: "Put a template background under the image" });
    const colour = el("input", { type: "color", value: "#ffffff", "data-action": "background-colour", title: "Background colour" });
    const file = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp", class: "is-hidden" });
    file.addEventListener("change", async () => {
      const f = file.files?.[0];
      if (f) await replace("", [new Uint8Array(await f.arrayBuffer())]);
      file.value = "";
    });
    return el("div", { class: "is-col", "data-role": "background-tools" },
      el("div", { class: "is-row" }, cut),
      el("div", { class: "is-row" }, templates),
      el("div", { class: "is-row" }, colour, button("Colour", () => replace(colour.value), { "data-action": "background-colour-apply" }),
        file, button("Image…", () => file.click(), { title: "An image file as the background" })));
  }

  /** A text layer's words, size and colour, editable at any time (the kernel re-renders it). */
  private textFields(layer: LayerView): HTMLElement {
    const text = layer.text || {};
    // The fields edited so far, kept here: a second change made before the panel redraws must not send the
    // first one's old value back (size set, then words changed, used to restore the old size).
    let current: Record<string, unknown> = { ...text };
    const update = (changes: Record<string, unknown>) => {
      current = { ...current, ...changes };
      const sent = current;
      return guarded(this.status, () => this.channel.call("update_layer", { layer_id: layer.id, text: sent }));
    };
    const content = el("textarea", { rows: "2", "data-text": "content" });
    content.value = text.content || "";
    content.addEventListener("keydown", (e) => e.stopPropagation());
    content.addEventListener("change", () => { if (content.value.trim()) update({ content: content.value }); });
    const size = el("input", { type: "number", min: "1", max: "2000", value: String(text.font_size ?? 32), "data-text": "layer-font-size" });
    size.addEventListener("keydown", (e) => e.stopPropagation());
    size.addEventListener("change", () => update({ font_size: Number(size.value) }));
    const colour = el("input", { type: "color", value: text.color || "#000000", "data-text": "color" });
    colour.addEventListener("change", () => update({ color: colour.value }));
    return el("div", { class: "is-col", "data-role": "text-props" }, labelled("Text", content),
      el("div", { class: "is-row" }, labelled("Size", size), labelled("Colour", colour)));
  }

  private renderProps(layer: LayerView | undefined): void {
    if (!layer) {
      this.props.replaceChildren(el("div", { class: "is-muted", text: "Select a layer to edit its properties." }));
      return;
    }
    const call = (method: string, args: Record<string, unknown>) =>
      guarded(this.status, () => this.channel.call(method, args));
    const opacity = el("input", { type: "range", min: "0", max: "100", step: "1", value: String(Math.round(layer.opacity * 100)),
      "data-prop": "opacity" });
    const opacityValue = el("span", { class: "is-value", text: `${Math.round(layer.opacity * 100)}%` });
    opacity.addEventListener("input", () => { opacityValue.textContent = `${opacity.value}%`; });
    opacity.addEventListener("change", () => call("update_layer", { layer_id: layer.id, opacity: Number(opacity.value) / 100 }));
    const blend = select([...BLEND_MODES], layer.blend_mode, (mode) => call("update_layer", { layer_id: layer.id, blend_mode: mode }),
      { "data-prop": "blend_mode" });
    const fields: HTMLElement[] = [labelled("Opacity", el("span", {}, opacity, opacityValue)), labelled("Blend", blend)];
    if (layer.kind !== "mask") {
      const masks = this.layers.filter((l) => l.kind === "mask");
      fields.push(labelled("Mask", select([["", "none"], ...masks.map((m) => [m.id, m.name] as [string, string])], layer.mask || "",
        (id) => call("update_layer", { layer_id: layer.id, mask: id || null }), { "data-prop": "mask" })));
    }
    const isCutout = layer.kind === "mask" && this.layers.some((l) => l.mask === layer.id && l.kind !== "mask");
    if (layer.kind === "image" || layer.kind === "generated" || isCutout) fields.push(this.backgroundTools(layer));
    if (layer.kind === "text" && layer.text) fields.push(this.textFields(layer));
    if (layer.transform.crop) {
      fields.push(button("Reset crop", () => call("reset_crop", { layer_id: layer.id }), { "data-action": "reset-crop" }));
    }
    this.props.replaceChildren(el("div", { class: "is-panel-subtitle", text: layer.name }), ...fields);
  }
}
