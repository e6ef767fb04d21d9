import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Event } from "../src/client/web.js";
import { type Child, h } from "./dom.js";
import { formatCount, prettyJson } from "./format.js";

/** Results longer than this many characters start collapsed. */
const COLLAPSE_AT = 240;

const obj = (v: JsonValue | undefined): JsonObject | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
const str = (v: JsonValue | undefined): string => (typeof v === "string" ? v : "");

/** The parts of an event's content, each rendered by its kind. */
export function renderParts(event: Event): HTMLElement[] {
  const content = event.content;
  const parts = content?.parts;
  const role = str(content?.role);
  if (!Array.isArray(parts)) return [];
  return parts.map((part) => renderPart(obj(part) ?? {}, role));
}

/** One part: text, thought, function call or response, inline data, file reference, code. */
function renderPart(part: JsonObject, role: string): HTMLElement {
  if (typeof part.text === "string") {
    if (part.thought === true) {
      return h("details", { class: "part thought" }, h("summary", {}, "thought"), h("div", { class: "text" }, part.text));
    }
    return h("div", { class: `part text role-${role || "none"}` }, role ? h("span", { class: "role" }, role) : null, h("span", { class: "text" }, part.text));
  }
  const call = obj(part.functionCall);
  if (call) {
    return h(
      "div",
      { class: "part call" },
      h("div", { class: "part-title" }, h("span", { class: "kind" }, "call"), h("code", { class: "fn" }, `${str(call.name)}(…)`), idTag(call.id)),
      h("pre", { class: "json args" }, prettyJson(call.args ?? {})),
    );
  }
  const response = obj(part.functionResponse);
  if (response) {
    const text = prettyJson(response.response ?? {});
    const title = h("span", { class: "part-title" }, h("span", { class: "kind" }, "result"), h("code", { class: "fn" }, str(response.name)), idTag(response.id));
    const body = h("pre", { class: "json result" }, text);
    if (text.length <= COLLAPSE_AT) return h("div", { class: "part response" }, h("div", {}, title), body);
    return h(
      "details",
      { class: "part response long" },
      h("summary", {}, title, h("span", { class: "size" }, ` ${formatCount(text.length)} chars`)),
      body,
    );
  }
  const inline = obj(part.inlineData);
  if (inline) return inlineData(inline);
  const file = obj(part.fileData);
  if (file) {
    const uri = str(file.fileUri);
    return h(
      "div",
      { class: "part file" },
      h("span", { class: "kind" }, "file"),
      h("code", {}, str(file.displayName) || uri),
      h("span", { class: "mime" }, str(file.mimeType)),
      /^https?:\/\//.test(uri) ? h("a", { href: uri, target: "_blank", rel: "noopener noreferrer" }, "open") : null,
    );
  }
  const code = obj(part.executableCode);
  if (code) return h("div", { class: "part code" }, h("span", { class: "kind" }, `code ${str(code.language).toLowerCase()}`), h("pre", { class: "json" }, str(code.code)));
  const outcome = obj(part.codeExecutionResult);
  if (outcome) {
    return h("div", { class: "part code" }, h("span", { class: "kind" }, `code result ${str(outcome.outcome).toLowerCase()}`), h("pre", { class: "json" }, str(outcome.output)));
  }
  return h("div", { class: "part other" }, h("span", { class: "kind" }, Object.keys(part).join(", ") || "empty part"), h("pre", { class: "json" }, prettyJson(part)));
}

function idTag(id: JsonValue | undefined): Child {
  return typeof id === "string" && id ? h("span", { class: "call-id", title: "call id" }, id) : null;
}

function inlineData(data: JsonObject): HTMLElement {
  const mime = str(data.mimeType);
  const b64 = str(data.data);
  const bytes = Math.floor((b64.replace(/=+$/, "").length * 3) / 4);
  const label = h("span", { class: "kind" }, "inline data");
  const info = h("span", { class: "mime" }, `${mime || "unknown type"} · ${formatCount(bytes)} bytes`);
  // Only raster images as data: URLs (the page's policy allows img-src data:); never SVG, which can carry script.
  const image = /^image\/(png|jpeg|gif|webp)$/.test(mime) && /^[A-Za-z0-9+/_-]+=*$/.test(b64);
  return h(
    "div",
    { class: "part inline" },
    label,
    str(data.displayName) ? h("code", {}, str(data.displayName)) : null,
    info,
    image ? h("img", { class: "thumb", alt: str(data.displayName) || mime, src: `data:${mime};base64,${b64.replace(/-/g, "+").replace(/_/g, "/")}` }) : null,
  );
}
