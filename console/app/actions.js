// The seven actions of the complaint detail: Contact, Resolve, Escalate, Add note, Pause,
// Resume, Re-triage. Each form posts to the API; on success the fields are cleared and the
// detail reloads; on a refusal the API's message is shown (409: a colleague acted first; 400:
// next to the field it names) and what was typed stays where it was.
import { path } from "./api.js";
import { h, replace, uid } from "./dom.js";
import { label, labels, t } from "./i18n.js";

const OUTCOMES = ["refund", "return", "exchange", "compensation", "explanation", "rejected"];
const SEVERITIES = ["P1", "P2", "P3"];
const PAUSE_REASONS = ["awaiting_customer"];

/** name: the API's field path, so a 400's `details[].field` finds its input. */
const ACTIONS = [
  {
    id: "contact", route: "contact", primary: ["awaiting_contact"],
    fields: [{ name: "note", kind: "textarea", label: "actions.field_note" }],
    body: (v) => ({ note: v.note }),
  },
  {
    id: "resolve", route: "resolve", primary: ["in_progress"],
    fields: [
      { name: "resolution", kind: "select", label: "actions.field_resolution", options: () => OUTCOMES.map((o) => [o, label("outcome", o)]),
        initial: (doc) => (OUTCOMES.includes(doc.desired_outcome) ? doc.desired_outcome : "refund") },
      { name: "note", kind: "textarea", label: "actions.field_note" },
      { name: "refund.amount", kind: "amount", label: "actions.field_refund" },
    ],
    body: (v, doc) => ({
      resolution: v.resolution, note: v.note,
      ...(v["refund.amount"].trim() ? { refund: { amount: v["refund.amount"].trim(), currency: doc.order_amount?.currency ?? "CNY" } } : {}),
    }),
  },
  {
    id: "escalate", route: "escalate", primary: [],
    fields: [{ name: "reason", kind: "textarea", label: "actions.field_reason" }],
    body: (v) => ({ reason: v.reason }),
  },
  {
    id: "note", route: "notes", primary: [],
    fields: [{ name: "text", kind: "textarea", label: "actions.field_text" }],
    body: (v) => ({ text: v.text }),
  },
  {
    id: "pause", route: "pause", primary: [],
    fields: [
      { name: "reason", kind: "select", label: "actions.field_reason", options: () => PAUSE_REASONS.map((r) => [r, label("pause_reason", r)]) },
      { name: "note", kind: "textarea", label: "actions.field_note" },
    ],
    body: (v) => ({ reason: v.reason, note: v.note }),
  },
  {
    id: "resume", route: "resume", primary: ["pending_customer"],
    fields: [{ name: "note", kind: "textarea", label: "actions.field_note" }],
    body: (v) => ({ note: v.note }),
  },
  {
    id: "retriage", route: "triage", primary: [],
    fields: [
      { name: "category", kind: "select", label: "actions.field_category",
        options: () => [["", t("actions.unchanged")], ...Object.entries(labels("category"))] },
      { name: "severity", kind: "select", label: "actions.field_severity",
        options: () => [["", t("actions.unchanged")], ...SEVERITIES.map((s) => [s, label("severity", s)])] },
      { name: "reason", kind: "textarea", label: "actions.field_reason" },
    ],
    body: (v) => ({ ...(v.category ? { category: v.category } : {}), ...(v.severity ? { severity: v.severity } : {}), reason: v.reason }),
  },
];

export const ACTION_IDS = ACTIONS.map((a) => a.id);

/** The actions of one complaint (kept while the detail refreshes, so drafts survive). */
export class ActionsPanel {
  constructor({ api, doc, onDone, announce }) {
    this.api = api;
    this.doc = doc;
    this.onDone = onDone;
    this.announce = announce;
    this.forms = new Map();
    this.element = h("section", { class: "card actions", "aria-labelledby": `actions-${doc.complaint_id}` });
    this.build();
  }

  build(values = null) {
    const heading = h("h3", { id: `actions-${this.doc.complaint_id}` }, t("actions.heading"));
    this.forms.clear();
    const grid = h("div", { class: "action-grid" }, ACTIONS.map((action) => this.form(action)));
    replace(this.element, heading, grid);
    if (values) this.restore(values);
    this.update(this.doc);
  }

  /** Rebuild in another language without losing what was typed. */
  relabel() {
    this.build(this.values());
  }

  values() {
    const all = {};
    for (const [id, f] of this.forms) all[id] = Object.fromEntries([...f.inputs].map(([name, input]) => [name, input.value]));
    return all;
  }

  restore(values) {
    for (const [id, fields] of Object.entries(values)) {
      const f = this.forms.get(id);
      for (const [name, value] of Object.entries(fields)) {
        const input = f?.inputs.get(name);
        if (input) input.value = value;
      }
    }
  }

  update(doc) {
    this.doc = doc;
    for (const action of ACTIONS) {
      const f = this.forms.get(action.id);
      f.button.classList.toggle("primary", action.primary.includes(doc.status));
    }
  }

  form(action) {
    const headingId = uid(`action-${action.id}`);
    const inputs = new Map();
    const errors = new Map();
    const fields = action.fields.map((field) => {
      const id = uid(`${action.id}-${field.name.replace(/\W/g, "-")}`);
      const errorId = `${id}-error`;
      let input;
      if (field.kind === "select") {
        input = h("select", { id, name: field.name },
          field.options().map(([value, text]) => h("option", { value }, text)));
        input.value = field.initial ? field.initial(this.doc) : input.options[0]?.value ?? "";
      } else if (field.kind === "amount") {
        input = h("input", { id, name: field.name, type: "text", inputmode: "decimal", autocomplete: "off",
                             placeholder: this.doc.order_amount?.amount ?? "0.00" });
      } else {
        input = h("textarea", { id, name: field.name, rows: 2 });
      }
      inputs.set(field.name, input);
      const error = h("p", { class: "field-error", id: errorId, hidden: true });
      errors.set(field.name, error);
      const labelText = field.kind === "amount" ? `${t(field.label)} (${this.doc.order_amount?.currency ?? "CNY"})` : t(field.label);
      return h("div", { class: "field" }, h("label", { for: id }, labelText), input, error);
    });
    const button = h("button", { type: "submit" }, t(`actions.${action.id}`));
    const alert = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h("form", { class: `action action-${action.id}`, "aria-labelledby": headingId, novalidate: true },
      h("h4", { id: headingId }, t(`actions.${action.id}`)), fields, alert, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(action);
    });
    this.forms.set(action.id, { form, inputs, errors, alert, button });
    return form;
  }

  clearErrors(f) {
    f.alert.hidden = true;
    f.alert.textContent = "";
    for (const [name, error] of f.errors) {
      error.hidden = true;
      error.textContent = "";
      const input = f.inputs.get(name);
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }

  async submit(action) {
    const f = this.forms.get(action.id);
    if (f.button.disabled) return;
    const started = performance.now();
    const values = Object.fromEntries([...f.inputs].map(([name, input]) => [name, input.value]));
    const id = this.doc.complaint_id;
    this.clearErrors(f);
    f.button.disabled = true;
    f.form.setAttribute("aria-busy", "true");
    const label = f.button.textContent;
    f.button.textContent = t("actions.busy");
    try {
      await this.api.post(path.action(id, action.route), action.body(values, this.doc));
      for (const field of action.fields) {
        const input = f.inputs.get(field.name);
        input.value = field.kind === "select" ? (field.initial ? field.initial(this.doc) : input.options[0]?.value ?? "") : "";
      }
      await this.onDone(action.id);
      this.announce(t(`actions.done_${action.id}`));
      await new Promise((resolve) => requestAnimationFrame(resolve));
      performance.measure(`console:${action.id}`, { start: started });
    } catch (error) {
      this.showError(f, error);
      if (error.status === 409) await this.onDone(action.id).catch(() => {});
    } finally {
      f.button.disabled = false;
      f.button.textContent = label;
      f.form.removeAttribute("aria-busy");
    }
  }

  showError(f, error) {
    for (const detail of error.details ?? []) {
      const input = f.inputs.get(detail.field);
      const slot = f.errors.get(detail.field);
      if (input && slot) {
        slot.textContent = detail.message;
        slot.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
      }
    }
    const fields = (error.details ?? []).map((d) => t("errors.field", { field: d.field || "body", message: d.message })).join("; ");
    const message = error.status === 409 ? t("errors.conflict", { message: error.message })
      : error.status === 400 ? t("errors.validation", { message: fields || error.message })
      : error.status === 403 ? t("errors.forbidden", { message: error.message })
      : error.status === 404 ? t("errors.not_found", { message: error.message })
      : error.status === 0 ? t("errors.network")
      : t("errors.server", { status: error.status, message: error.message });
    f.alert.textContent = message;
    f.alert.hidden = false;
    const firstInvalid = [...f.inputs.values()].find((i) => i.getAttribute("aria-invalid") === "true");
    firstInvalid?.focus();
  }
}
