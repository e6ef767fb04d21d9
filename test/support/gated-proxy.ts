import net from "node:net";

/** A loopback TCP proxy to `target` that drops every connection until `open()`: a database that is not up yet. */
export interface GatedProxy {
  port: number;
  open(): void;
  close(): Promise<void>;
}

/** Starts a proxy on `port` (default: a free one) of 127.0.0.1. */
export async function startGatedProxy(target: { host: string; port: number }, port = 0): Promise<GatedProxy> {
  let isOpen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!isOpen) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => (isOpen = true),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
