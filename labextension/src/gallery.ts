// The Gallery: the project's images as a grid of thumbnails (binary buffers), search over tags and prompts,
// tags, a click to put an image on the canvas, and two images compared side by side.
import { Channel, Model, panelWidget } from "./comm";
import { StatusLine, button, el, guarded, announceSelection } from "./ui";

interface Item { hash: string; width: number; height: number; tags: string[]; source: string | null; prompt?: string; model?: string; }

class GalleryView {
  readonly root = el("div", { class: "is-studio is-gallery", "data-lm-suppress-shortcuts": "true" });
  private status = new StatusLine();
  private grid = el("div", { class: "is-grid", "data-role": "grid" });
  private compareBox = el("div", { class: "is-compare", "data-role": "compare" });
  private search = el("input", { type: "search", placeholder: "Search tags and prompts…", "data-role": "search" });
  private tagInput = el("input", { type: "text", placeholder: "tag", size: "10", "data-role": "tag" });
  private thumbs = new Map<string, string>();
  private visible: string[] | null = null;
  private marked: string[] = [];
  private searchTimer = 0;

  constructor(private model: Model, private channel: Channel) {
    this.search.addEventListener("input", () => {
      window.clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => this.runSearch(), 200);
    });
    for (const input of [this.search, this.tagInput]) input.addEventListener("keydown", (e) => e.stopPropagation());
    this.root.append(el("div", { class: "is-panel-title", text: "Gallery" }),
      el("div", { class: "is-row" }, this.search,
        el("span", { class: "is-muted", text: "Click: add to canvas · Shift+click: mark (two to compare)" })),
      el("div", { class: "is-row" }, this.tagInput,
        button("Tag marked", () => this.tagMarked(), { "data-action": "tag" }),
        button("Compare marked", () => this.compare(), { "data-action": "compare" }),
        button("Clear marks", () => { this.marked = []; this.compareBox.replaceChildren(); this.render(); })),
      this.grid, this.compareBox, this.status.node);
    model.on("change:items", () => { if (this.search.value.trim()) this.runSearch(); else this.render(); });
    this.render();
  }

  private items(): Item[] {
    return (this.model.get("items") || []) as Item[];
  }

  private async runSearch(): Promise<void> {
    const query = this.search.value;
    const found = await guarded(this.status, () => this.channel.call("search", { query }));
    this.visible = query.trim() ? (found || []) : null;
    this.render();
  }

  private render(): void {
    const items = this.items();
    const shown = this.visible ? items.filter((i) => this.visible!.includes(i.hash)) : items;
    this.grid.replaceChildren(...shown.map((item) => this.cell(item)));
    if (!shown.length) this.grid.append(el("div", { class: "is-muted", text: this.visible ? "Nothing matches." : "No images yet: generate some." }));
    this.loadThumbs(shown.map((i) => i.hash).filter((h) => !this.thumbs.has(h)));
  }

  private cell(item: Item): HTMLElement {
    const img = el("img", { alt: item.prompt || item.hash.slice(0, 12), "data-hash": item.hash });
    const url = this.thumbs.get(item.hash);
    if (url) img.src = url;
    const tags = el("div", { class: "is-chips" }, ...item.tags.map((tag) => el("span", { class: "is-chip", text: tag, title: "Click to remove",
      onclick: (e: MouseEvent) => { e.stopPropagation(); guarded(this.status, () => this.channel.call("untag", { asset: item.hash, tag })); } })));
    const node = el("div", { class: "is-cell" + (this.marked.includes(item.hash) ? " is-selected" : ""), "data-asset": item.hash,
      title: `${item.prompt || item.source || ""}\n${item.width}×${item.height}${item.model ? ` · ${item.model}` : ""}` },
      img, el("div", { class: "is-cell-caption", text: item.prompt || item.source || item.hash.slice(0, 12) }), tags);
    node.addEventListener("click", async (e) => {
      if (e.shiftKey) {
        this.marked = this.marked.includes(item.hash) ? this.marked.filter((h) => h !== item.hash) : [...this.marked, item.hash].slice(-2);
        this.render();
        return;
      }
      const layer = await guarded(this.status, () => this.channel.call("add_to_canvas", { asset: item.hash }));
      if (layer) {
        this.status.info("Added to the canvas as a new layer.", 4000);
        // Selection is each view's own: ask this page's canvas to select the new layer.
        const documentPath = this.model.get("document_path") || "";
        if (documentPath) announceSelection({ documentPath, layer, request: true });
      }
    });
    return node;
  }

  private async loadThumbs(hashes: string[]): Promise<void> {
    for (let i = 0; i < hashes.length; i += 32) {
      const batch = hashes.slice(i, i + 32);
      const reply = await guarded(this.status, () => this.channel.request("call", { method: "thumbnails", args: { assets: batch } }));
      if (!reply) return;
      reply[1].forEach((bytes, j) => this.thumbs.set(batch[j], URL.createObjectURL(new Blob([bytes as BlobPart], { type: "image/png" }))));
      for (const img of this.grid.querySelectorAll<HTMLImageElement>("img[data-hash]")) {
        const url = this.thumbs.get(img.dataset.hash!);
        if (url && img.src !== url) img.src = url;
      }
    }
  }

  private async tagMarked(): Promise<void> {
    const tag = this.tagInput.value.trim();
    if (!tag) { this.status.error("Type a tag first."); return; }
    if (!this.marked.length) { this.status.error("Shift+click images to mark them first."); return; }
    for (const asset of this.marked) await guarded(this.status, () => this.channel.call("tag", { asset, tag }));
    this.tagInput.value = "";
  }

  private async compare(): Promise<void> {
    if (this.marked.length !== 2) { this.status.error("Mark two images (Shift+click) to compare them."); return; }
    const figures = await Promise.all(this.marked.map(async (asset) => {
      const reply = await guarded(this.status, () => this.channel.request("call", { method: "image", args: { asset } }));
      if (!reply) return null;
      const [msg, buffers] = reply;
      const url = URL.createObjectURL(new Blob([buffers[0] as BlobPart], { type: msg.result.mime }));
      const item = this.items().find((i) => i.hash === asset);
      return el("figure", {}, el("img", { src: url, "data-asset": asset }),
        el("figcaption", { text: `${item?.prompt || asset.slice(0, 12)} · ${msg.result.width}×${msg.result.height}` }));
    }));
    this.compareBox.replaceChildren(...figures.filter((f): f is HTMLElement => f !== null));
  }
}

export default panelWidget((model, channel) => new GalleryView(model, channel));
