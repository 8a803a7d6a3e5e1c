// The PromptPanel: prompt, model and option selectors built from the model's declared capabilities,
// suggestions while typing, enhance (with changes explained and alternatives), templates, styles, history,
// and Generate, which stores the results in the project and puts them on the canvas.
import { Channel, Model, panelWidget } from "./comm";
import { StatusLine, announceSelection, button, el, focusQuietly, guarded, labelled, onSelection, select } from "./ui";

interface Caps { model: string; sizes: string[]; qualities: string[]; max_n: number; output_formats: string[];
  backgrounds: string[]; styles: string[]; seed: boolean; edit: boolean; description: string;
  /** The panel options this model takes for each call, from its capability table (Python decides). */
  accepts: { generate: string[]; edit: string[] }; }

interface Result { asset: string; layer: string; seed: number | null; revised_prompt: string | null; name: string; }

class PromptPanelView {
  readonly root = el("div", { class: "is-studio is-prompt", "data-lm-suppress-shortcuts": "true" });
  private status = new StatusLine();
  private text = el("textarea", { placeholder: "Describe the image…", "data-role": "prompt", rows: "3" });
  private chips = el("div", { class: "is-chips", "data-role": "suggestions" });
  private optionsRow = el("div", { class: "is-row", "data-role": "options" });
  private enhanceBox = el("div", { class: "is-col", "data-role": "enhancement" });
  private templateBox = el("div", { class: "is-col", "data-role": "template" });
  private historyBox = el("div", { class: "is-col", "data-role": "history" });
  private resultsBox = el("div", { class: "is-results is-strip", "data-role": "results" });
  private generateButton: HTMLButtonElement;
  private editButton: HTMLButtonElement;
  private suggestTimer = 0;
  /** The layer selected on this page's canvas (the anchor of new results, the layer an edit works on). */
  private selection: string | null = null;
  private disposeSelection: () => void;

  constructor(private model: Model, private channel: Channel) {
    // The draft is this view's own (DESIGN.md D2): it starts from the notebook's prompt and is sent with each
    // call, never synced, so two people on one kernel each keep what they are typing.
    this.text.value = model.get("prompt") || "";
    this.text.addEventListener("input", () => {
      window.clearTimeout(this.suggestTimer);
      this.suggestTimer = window.setTimeout(() => this.suggest(), 150);
    });
    const documentPath = model.get("document_path") || "";
    this.disposeSelection = onSelection(documentPath, (detail) => { if (!detail.request) this.selection = detail.layer; });
    this.text.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.generate(); }
    });
    const models = (model.get("models") || []) as Caps[];
    const modelSelect = select(models.map((m) => [m.model, m.model] as [string, string]), model.get("model_name"), (name) => {
      this.model.set("model_name", name);
      this.model.set("options", this.defaults(name));
      this.model.save_changes();
      this.renderOptions();
      this.updateEditButton();
    }, { "data-option": "model" });
    const styles = (model.get("styles") || []) as { name: string; title: string; description: string }[];
    const styleSelect = select([["", "style: auto"], ...styles.map((s) => [s.name, s.title || s.name] as [string, string])],
      model.get("style") || "", (v) => { this.model.set("style", v); this.model.save_changes(); }, { "data-role": "style" });
    const templates = (model.get("templates") || []) as any[];
    const templateSelect = select([["", "template…"], ...templates.map((t) => [t.name, t.title] as [string, string])], "",
      (name) => { this.showTemplate(templates.find((t) => t.name === name)); templateSelect.value = ""; }, { "data-role": "templates" });
    this.generateButton = button("Generate", () => this.generate(), { class: "is-btn is-primary", "data-action": "generate",
      title: "Generate (Ctrl+Enter)" });
    this.editButton = button("Inpaint", () => this.generate("edit"), { "data-action": "edit" });
    // Enhance, template and history open in one bounded drawer that scrolls, so the strip keeps its height.
    const drawer = el("div", { class: "is-drawer", "data-role": "drawer" }, this.enhanceBox, this.templateBox, this.historyBox);
    const compose = el("div", { class: "is-compose" },
      el("div", { class: "is-row" }, el("span", { class: "is-panel-title", text: "Prompt" }), this.chips), this.text,
      el("div", { class: "is-row" }, labelled("Model", modelSelect), this.optionsRow),
      el("div", { class: "is-row" }, styleSelect,
        button("Enhance", () => this.enhance(), { "data-action": "enhance" }), templateSelect,
        button("History", () => this.history(), { "data-action": "history" }), this.generateButton, this.editButton),
      drawer, this.status.node);
    const strip = el("div", { class: "is-generations" },
      el("div", { class: "is-panel-subtitle", text: "Generations" }), this.resultsBox);
    this.root.append(compose, strip);
    if (!Object.keys(model.get("options") || {}).length) {
      this.model.set("options", this.defaults(model.get("model_name")));
      this.model.save_changes();
    }
    this.renderOptions();
    this.updateEditButton();
  }

  private updateEditButton(): void {
    const caps = this.caps();
    this.editButton.disabled = !caps?.edit;
    this.editButton.title = caps?.edit ? "Edit the canvas's selected image layer inside the painted mask"
      : `${caps?.model ?? "This model"} cannot edit images; choose a model that can (local can)`;
  }

  /** The options to send: only those the model accepts for this call. */
  private requestOptions(method: "generate" | "edit"): Record<string, any> {
    const accepted = this.caps()?.accepts?.[method] ?? [];
    const options = this.model.get("options") || {};
    return Object.fromEntries(Object.entries(options).filter(([key]) => accepted.includes(key)));
  }

  private caps(name?: string): Caps | undefined {
    const models = (this.model.get("models") || []) as Caps[];
    return models.find((m) => m.model === (name ?? this.model.get("model_name"))) || models[0];
  }

  private defaults(name: string): Record<string, any> {
    const caps = this.caps(name);
    if (!caps) return {};
    const out: Record<string, any> = { size: caps.sizes[0], n: 1 };
    if (caps.qualities.length) out.quality = caps.qualities[caps.qualities.length - 1] === "auto" ? "auto" : caps.qualities[0];
    if (caps.styles.length) out.style = caps.styles[0];
    return out;
  }

  private setOption(key: string, value: any): void {
    const options = { ...(this.model.get("options") || {}) };
    if (value === "" || value === null || value === undefined) delete options[key];
    else options[key] = value;
    this.model.set("options", options);
    this.model.save_changes();
  }

  /** Selectors for exactly what the chosen model declares: sizes, qualities, n, styles, backgrounds, seed. */
  private renderOptions(): void {
    const caps = this.caps();
    const options = this.model.get("options") || {};
    if (!caps) { this.optionsRow.replaceChildren(); return; }
    const fields: HTMLElement[] = [labelled("Size", select(caps.sizes, options.size ?? caps.sizes[0], (v) => this.setOption("size", v), { "data-option": "size" }))];
    if (caps.qualities.length) fields.push(labelled("Quality", select(caps.qualities, options.quality ?? null, (v) => this.setOption("quality", v), { "data-option": "quality" })));
    const counts = Array.from({ length: caps.max_n }, (_, i) => String(i + 1));
    fields.push(labelled("n", select(counts, String(options.n ?? 1), (v) => this.setOption("n", Number(v)), { "data-option": "n" })));
    if (caps.styles.length) fields.push(labelled("Style", select(caps.styles, options.style ?? null, (v) => this.setOption("style", v), { "data-option": "image-style" }),
      { title: "Generation only: inpainting does not take a style" }));
    if (caps.backgrounds.length) fields.push(labelled("Background", select(["", ...caps.backgrounds], options.background ?? "", (v) => this.setOption("background", v), { "data-option": "background" })));
    if (caps.seed) {
      const seed = el("input", { type: "text", size: "8", placeholder: "random", value: options.seed ?? "", "data-option": "seed" });
      seed.addEventListener("change", () => this.setOption("seed", seed.value.trim() ? Number(seed.value) : null));
      fields.push(labelled("Seed", seed));
    }
    this.optionsRow.replaceChildren(...fields);
  }

  private async suggest(): Promise<void> {
    const items = await this.channel.call("suggest", { prompt: this.text.value }).catch(() => []);
    this.chips.replaceChildren(...(items || []).map((s: any) => el("button", {
      type: "button", class: "is-chip", title: s.kind, text: s.label,
      onclick: () => { this.text.value = s.text; this.text.dispatchEvent(new Event("input")); focusQuietly(this.text); },
    })));
  }

  private async enhance(): Promise<void> {
    this.status.busy("Enhancing…");
    const result = await guarded(this.status, () => this.channel.call("enhance", { prompt: this.text.value, style: this.model.get("style") }));
    if (!result) return;
    this.status.info(result.note || `Enhanced with the ${result.engine} engine${result.style ? ` (style ${result.style})` : ""}.`);
    const use = (text: string) => button("Use", () => { this.text.value = text; this.text.dispatchEvent(new Event("input")); this.enhanceBox.replaceChildren(); });
    this.enhanceBox.replaceChildren(
      el("div", { class: "is-row" }, el("strong", { text: result.prompt, "data-role": "enhanced" }), use(result.prompt),
        button("Close", () => this.enhanceBox.replaceChildren(), { "data-action": "close-enhance" })),
      el("ul", { class: "is-changes" }, ...result.changes.map((c: any) => el("li", { text: `${c.action === "add" ? "+" : "~"} ${c.slot}: ${c.text} (${c.reason})` }))),
      ...result.alternatives.map((alt: string) => el("div", { class: "is-row" }, el("span", { text: alt }), use(alt))));
  }

  private showTemplate(template: any): void {
    if (!template) return;
    const inputs = new Map<string, HTMLInputElement>();
    const fields = Object.entries(template.variables || {}).map(([name, v]: [string, any]) => {
      const input = el("input", { type: "text", placeholder: v.example || v.default || v.description || name, value: v.default || "",
        "data-variable": name });
      input.addEventListener("keydown", (e) => e.stopPropagation());
      inputs.set(name, input);
      return labelled(name, input, { title: v.description || "" });
    });
    this.templateBox.replaceChildren(el("div", { class: "is-panel-subtitle", text: `Template: ${template.title}` }),
      el("div", { class: "is-muted", text: template.text }), el("div", { class: "is-row" }, ...fields),
      el("div", { class: "is-row" },
        button("Use template", async () => {
          const values: Record<string, string> = {};
          for (const [name, input] of inputs) values[name] = input.value;
          const text = await guarded(this.status, () => this.channel.call("render_template", { name: template.name, values }));
          if (text) { this.text.value = text; this.text.dispatchEvent(new Event("input")); this.templateBox.replaceChildren(); }
        }, { "data-action": "use-template" }),
        button("Close", () => this.templateBox.replaceChildren())));
  }

  private async history(): Promise<void> {
    const entries = await guarded(this.status, () => this.channel.call("history", { query: "" }));
    if (!entries) return;
    this.historyBox.replaceChildren(el("div", { class: "is-row" },
        el("span", { class: "is-panel-subtitle", text: entries.length ? "Earlier prompts" : "No prompts in the history yet." }),
        button("Close", () => this.historyBox.replaceChildren(), { "data-action": "close-history" })),
      ...entries.map((e: any) => el("button", { type: "button", class: "is-chip", text: e.prompt,
        title: `used ${e.uses}×${e.rating ? `, rated ${e.rating.toFixed(1)}` : ""}`,
        onclick: () => { this.text.value = e.prompt; this.text.dispatchEvent(new Event("input")); this.historyBox.replaceChildren(); } })));
  }

  private async generate(method: "generate" | "edit" = "generate"): Promise<void> {
    this.generateButton.disabled = true;
    this.editButton.disabled = true;
    const started = performance.now();
    const what = method === "edit" ? "Editing" : "Generating";
    this.status.busy(`${what}…`);
    const tick = window.setInterval(() => this.status.busy(`${what}… ${((performance.now() - started) / 1000).toFixed(0)} s`), 1000);
    try {
      const args: Record<string, unknown> = { prompt: this.text.value, model: this.model.get("model_name"),
        options: this.requestOptions(method) };
      if (method === "generate") args.style = this.model.get("style");
      if (this.selection) args.layer = this.selection;
      const reply = await guarded(this.status, () => this.channel.request("call", { method, args }));
      if (!reply) return;
      const [msg, buffers] = reply;
      const results = msg.result.results as Result[];
      this.status.info(`${method === "edit" ? "Edited" : "Generated"} ${results.length} image${results.length === 1 ? "" : "s"}; ` +
        `on the canvas as “${results[0]?.name ?? ""}”${results.length > 1 ? " (the others hidden)" : ""}.`, 8000);
      // Newest first; earlier generations of this session stay in the strip.
      const cards = buffers.map((b, i) => this.card(b, results[i]));
      this.resultsBox.prepend(...cards);
      if (results[0]) this.selectOnCanvas(results[0].layer);
    } finally {
      window.clearInterval(tick);
      this.generateButton.disabled = false;
      this.updateEditButton();
    }
  }

  /** One entry of the generations strip: thumbnail, number and seed; a click selects its layer. */
  private card(bytes: Uint8Array, result: Result): HTMLElement {
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "image/png" }));
    const image = el("img", { src: url, width: "88", height: "88", alt: result.name, onload: () => URL.revokeObjectURL(url) });
    return el("button", { type: "button", class: "is-card", "data-asset": result.asset, "data-layer": result.layer,
      title: `${result.name}${result.revised_prompt ? `\n${result.revised_prompt}` : ""}\nClick to select and show it on the canvas`,
      onclick: async () => {
        if (await guarded(this.status, () => this.channel.call("show_result", { layer: result.layer })) !== undefined) this.selectOnCanvas(result.layer);
      } },
      image, el("span", { class: "is-card-caption", text: `${result.name.split(" ")[0].startsWith("#") ? result.name.split(" ")[0] + " · " : ""}seed ${result.seed ?? "–"}` }));
  }

  /** Ask this page's canvas to select a layer this panel put there. */
  private selectOnCanvas(layer: string): void {
    const documentPath = this.model.get("document_path") || "";
    if (documentPath) announceSelection({ documentPath, layer, request: true });
  }

  dispose(): void {
    this.disposeSelection();
  }
}

export default panelWidget((model, channel) => new PromptPanelView(model, channel));
