// Node entry (`sessiond/client`): everything of the browser entry, with a
// createSessiondClient that also builds connect-node transports from a URL
// (this explicit export takes precedence over the browser entry's).
export * from "./web.js";
export { type ClientTlsOptions, createSessiondClient, nodeTransport, type NodeClientOptions, type Protocol } from "./node.js";
