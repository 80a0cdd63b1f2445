/**
 * A TCP proxy to a local sqld that tells jdo's two kinds of cloud traffic
 * apart by the first request on each connection: the remote SQL client
 * (`POST /v2/pipeline`, `/v3/pipeline`: schema check, push) and the embedded
 * replica (`GET /info`, `POST /wal_log.ReplicationLog/…`: pull). Either kind
 * can be "stalled": its connections are accepted and never answered, like a
 * network that dies between two steps of a sync.
 */

export type TrafficKind = "sql" | "replication";

export interface SplitProxy extends AsyncDisposable {
  url: string;
  /** Connections of this kind are accepted and never answered from now on. */
  stall(kind: TrafficKind, on?: boolean): void;
  /** Kinds of the connections seen so far, in order. */
  seen: TrafficKind[];
  close(): Promise<void>;
}

function kindOf(firstBytes: Uint8Array): TrafficKind {
  const line = new TextDecoder().decode(firstBytes.subarray(0, 200)).split("\r\n", 1)[0];
  return /^\S+ \/v\d+\/pipeline\b/.test(line) ? "sql" : "replication";
}

export function startSplitProxy(targetPort: number): SplitProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stalled = new Set<TrafficKind>();
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const seen: TrafficKind[] = [];

  const closeQuietly = (c: Deno.Conn) => {
    try {
      c.close();
    } catch { /* already closed */ }
    open.delete(c);
  };

  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        let done = 0;
        while (done < n) done += await to.write(buf.subarray(done, n));
      }
      await to.closeWrite().catch(() => {});
    } catch {
      closeQuietly(from);
      closeQuietly(to);
    }
  };

  const drain = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (await conn.read(buf) !== null) { /* swallow */ }
    } catch { /* closed */ }
  };

  const handle = async (client: Deno.Conn) => {
    open.add(client);
    const buf = new Uint8Array(64 * 1024);
    const n = await client.read(buf);
    if (n === null) return closeQuietly(client);
    const first = buf.slice(0, n);
    const kind = kindOf(first);
    seen.push(kind);

    if (stalled.has(kind)) return await drain(client);
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    open.add(upstream);
    let done = 0;
    while (done < first.length) done += await upstream.write(first.subarray(done));
    await Promise.all([pump(client, upstream), pump(upstream, client)]);
    closeQuietly(client);
    closeQuietly(upstream);
  };

  const accept = (async () => {
    try {
      for await (const conn of listener) {
        const task: Promise<void> = handle(conn).catch(() => closeQuietly(conn)).finally(() =>
          tasks.delete(task)
        );
        tasks.add(task);
      }
    } catch { /* listener closed */ }
  })();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      try {
        listener.close();
      } catch { /* closed */ }
      await accept;
      for (const c of [...open]) closeQuietly(c);
      await Promise.all([...tasks]);
    })();
    return closing;
  };

  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    stall(kind, on = true) {
      if (on) stalled.add(kind);
      else stalled.delete(kind);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
