import type { EventInit, SessionRef, SessiondClient } from "../../src/client/index.js";

/** A 1×1 PNG, as a user's photo attachment. */
export const PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/** An order with enough line items that the lookup result starts collapsed. */
const ORDER = {
  order_id: "1042",
  status: "delivered",
  items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${100 + i}`, name: `Ceramic mug, set item ${i + 1}`, price: 7.49 })),
};

const usage = (prompt: number, candidates: number) => ({ usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates } });

/**
 * An ADK-style support conversation: a triage agent looks an order up and
 * transfers to billing, whose refund tool fails; billing escalates. Two
 * invocations, tool calls and responses, a thought, an attachment, state
 * deltas in every scope, an artifact, usage metadata and an error.
 */
export function supportEvents(startMs: number): EventInit[] {
  const at = (ms: number) => ({ seconds: BigInt(Math.floor((startMs + ms) / 1000)), nanos: ((startMs + ms) % 1000) * 1_000_000 });
  return [
    {
      invocationId: "inv-triage",
      author: "user",
      timestamp: at(0),
      content: {
        role: "user",
        parts: [
          { text: "My order #1042 arrived damaged. I want a refund." },
          { inlineData: { mimeType: "image/png", data: PIXEL_PNG, displayName: "damage.png" } },
          { fileData: { mimeType: "image/jpeg", fileUri: "gs://support-uploads/1042/box.jpg" } },
        ],
      },
    },
    {
      invocationId: "inv-triage",
      author: "triage",
      timestamp: at(412),
      content: { role: "model", parts: [{ functionCall: { id: "call-1", name: "lookup_order", args: { order_id: "1042", include: ["items", "shipping"] } } }] },
      metadata: usage(812, 24),
    },
    {
      invocationId: "inv-triage",
      author: "triage",
      timestamp: at(530),
      content: { role: "user", parts: [{ functionResponse: { id: "call-1", name: "lookup_order", response: ORDER } }] },
    },
    {
      invocationId: "inv-triage",
      author: "triage",
      timestamp: at(1_207),
      content: { role: "model", parts: [{ text: "This is a refund request; handing over to billing." }] },
      actions: { transferToAgent: "billing", stateDelta: { case_status: "triaged", "user:tier": "gold" } },
      metadata: usage(1_290, 41),
    },
    {
      invocationId: "inv-billing",
      author: "billing",
      timestamp: at(2_105),
      content: {
        role: "model",
        parts: [
          { text: "Gold tier and a damaged item: a full refund is allowed.", thought: true },
          { functionCall: { id: "call-2", name: "issue_refund", args: { order_id: "1042", amount: 59.92, currency: "EUR" } } },
        ],
      },
      metadata: usage(1_502, 66),
    },
    {
      invocationId: "inv-billing",
      author: "billing",
      timestamp: at(7_118),
      content: { role: "user", parts: [{ functionResponse: { id: "call-2", name: "issue_refund", response: { error: "payment provider timeout" } } }] },
      errorCode: "TOOL_ERROR",
      errorMessage: "issue_refund failed: payment provider timeout after 5000 ms",
    },
    {
      invocationId: "inv-billing",
      author: "billing",
      timestamp: at(7_604),
      content: { role: "model", parts: [{ text: "I could not issue the refund right now, so a human colleague will follow up today." }] },
      actions: {
        escalate: true,
        stateDelta: { case_status: "escalated", "app:open_escalations": 1, draft_reply: null },
        artifactDelta: { "refund-request.pdf": 2n },
      },
      metadata: usage(1_700, 38),
      turnComplete: true,
    },
  ];
}

/** Creates the support session and appends the conversation. */
export async function seedSupportSession(api: SessiondClient, ref: SessionRef, startMs: number): Promise<void> {
  await api.createSession({
    ...ref,
    agentId: "triage",
    state: { case_status: "new", draft_reply: "Sorry to hear that", "app:support_hours": "9-17" },
    metadata: { channel: "chat" },
  });
  await api.appendEvents(ref, supportEvents(startMs));
}
