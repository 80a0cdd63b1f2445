// Start-up baseline: the cheapest Deno program there is (`deno task bench --startup`).
