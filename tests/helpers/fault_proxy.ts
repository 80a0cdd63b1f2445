/**
 * TCP proxy on 127.0.0.1 that forwards to a local target port and can inject
 * network faults: cut connections, refuse them, swallow them, or cut a
 * response in the middle.
 */

export type ProxyMode = "pass" | "refuse" | "blackhole";

export interface FaultProxy {
  /** "http://127.0.0.1:PORT" of the proxy. */
  url: string;
  port: number;
  /** Closes every current connection (both sides) immediately. */
  cutAll(): void;
  /**
   * How new connections are handled. "refuse" accepts and closes at once;
   * "blackhole" accepts and never forwards or answers. Blackhole also drops
   * bytes on connections that are already open, like a dead network would;
   * switching back to "pass" leaves those streams corrupted, so cutAll() then.
   */
  setMode(mode: ProxyMode): void;
  /**
   * Forwards normally until n more bytes have gone from upstream to client
   * (summed over all connections), then closes the connection that crossed the
   * limit and forgets the limit.
   */
  cutAfterBytes(n: number): void;
  /** Total bytes forwarded in both directions since the proxy started. */
  bytesForwarded(): number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const BUFFER_SIZE = 64 * 1024;

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

async function closeWriteQuietly(conn: Deno.Conn): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    // The peer is gone or the socket is closed; nothing left to signal.
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) {
    written += await conn.write(data.subarray(written));
  }
}

/** One accepted client connection and, when forwarding, its upstream. */
class Link {
  upstream: Deno.Conn | null = null;
  #closed = false;

  constructor(readonly client: Deno.Conn) {}

  /** Returns false (and closes conn) if the link was cut meanwhile. */
  attach(upstream: Deno.Conn): boolean {
    this.upstream = upstream;
    if (this.#closed) closeQuietly(upstream);
    return !this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.client);
    if (this.upstream) closeQuietly(this.upstream);
  }
}

class FaultProxyServer implements FaultProxy {
  readonly url: string;
  readonly port: number;
  #mode: ProxyMode = "pass";
  #cutBudget: number | null = null;
  #forwarded = 0;
  #links = new Set<Link>();
  #tasks = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;
  #closing: Promise<void> | null = null;

  constructor(readonly listener: Deno.Listener, readonly targetPort: number) {
    this.port = (listener.addr as Deno.NetAddr).port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.#acceptLoop = this.#accept();
  }

  cutAll(): void {
    for (const link of this.#links) link.close();
  }

  setMode(mode: ProxyMode): void {
    this.#mode = mode;
  }

  cutAfterBytes(n: number): void {
    this.#cutBudget = n;
  }

  bytesForwarded(): number {
    return this.#forwarded;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    try {
      this.listener.close();
    } catch {
      // Already closed.
    }
    await this.#acceptLoop;
    this.cutAll();
    await Promise.all(this.#tasks);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.listener) this.#track(conn);
    } catch {
      // The listener was closed while accepting.
    }
  }

  #track(conn: Deno.Conn): void {
    const link = new Link(conn);
    this.#links.add(link);
    const task = this.#handle(link)
      .catch(() => {})
      .finally(() => {
        link.close();
        this.#links.delete(link);
        this.#tasks.delete(task);
      });
    this.#tasks.add(task);
  }

  async #handle(link: Link): Promise<void> {
    if (this.#closing) return;
    if (this.#mode === "refuse") return;
    if (this.#mode === "blackhole") return await this.#drain(link.client);
    const upstream = await Deno.connect({
      hostname: "127.0.0.1",
      port: this.targetPort,
    });
    if (!link.attach(upstream)) return;
    await Promise.all([
      this.#pump(link, link.client, upstream, false),
      this.#pump(link, upstream, link.client, true),
    ]);
  }

  /** Reads and discards everything, so the client believes it was sent. */
  async #drain(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(BUFFER_SIZE);
    while (await conn.read(buf) !== null) {
      // Discard.
    }
  }

  async #pump(
    link: Link,
    from: Deno.Conn,
    to: Deno.Conn,
    toClient: boolean,
  ): Promise<void> {
    const buf = new Uint8Array(BUFFER_SIZE);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (this.#mode === "blackhole") continue;
        const allowed = toClient ? this.#takeBudget(n) : n;
        await writeAll(to, buf.subarray(0, allowed));
        this.#forwarded += allowed;
        if (allowed < n || (toClient && this.#cutBudget === 0)) {
          this.#cutBudget = null;
          link.close();
          return;
        }
      }
      await closeWriteQuietly(to);
    } catch {
      // Reset, broken pipe or a socket closed by cutAll: end this link.
      link.close();
    }
  }

  /** How many of n bytes may pass before the cut limit is reached. */
  #takeBudget(n: number): number {
    if (this.#cutBudget === null) return n;
    const allowed = Math.min(n, this.#cutBudget);
    this.#cutBudget -= allowed;
    return allowed;
  }
}

export function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return Promise.resolve(new FaultProxyServer(listener, targetPort));
}
