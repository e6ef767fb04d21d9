import type { JsonObject } from "@bufbuild/protobuf";
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";

/**
 * A serialized value as event JSON: the serializer's JSON text kept as a
 * string (readable in the viewer, and free of sessiond's nesting limit),
 * anything else as base64.
 */
export async function encodeValue(serde: SerializerProtocol, value: unknown): Promise<JsonObject> {
  const [type, data] = await serde.dumpsTyped(value);
  if (typeof data === "string") return { type, text: data };
  if (type === "json") {
    try {
      return { type, text: new TextDecoder("utf-8", { fatal: true }).decode(data) };
    } catch {
      // Not UTF-8 after all: keep the bytes as they are.
    }
  }
  return { type, base64: Buffer.from(data).toString("base64") };
}

/** The value {@link encodeValue} stored. */
export async function decodeValue(serde: SerializerProtocol, stored: unknown): Promise<unknown> {
  const { type, text, base64 } = (stored ?? {}) as { type?: string; text?: string; base64?: string };
  if (typeof type !== "string") throw new Error("stored value has no serialization type");
  if (typeof text === "string") return serde.loadsTyped(type, text);
  return serde.loadsTyped(type, new Uint8Array(Buffer.from(base64 ?? "", "base64")));
}
