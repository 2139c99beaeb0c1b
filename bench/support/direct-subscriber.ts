// The hand-written SSE subscriber the benchmarks' raw Bun baselines serve.

export interface Direct {
	write(chunk: string | Uint8Array): number | Promise<number>
	flush(): void
	close(): void
}

/**
 * The hand-written subscriber: a direct stream that registers its controller and
 * leaves on abort. `first()` (e.g. a replay) is written after the opening comment, in the
 * same tick the client joins, so nothing published meanwhile is missed.
 */
export function directSubscriber(
	request: Request,
	clients: Set<Direct>,
	first?: () => Uint8Array | undefined,
	/** Told how long the pull took, in ns (bench/setup.bench.ts). */
	pulled?: (ns: number) => void
): Response {
	const body = new ReadableStream({
		type: 'direct',
		pull(ctrl: Direct) {
			const at = pulled ? Bun.nanoseconds() : 0
			ctrl.write(': open\n\n')
			const replay = first?.()
			if (replay) ctrl.write(replay)
			ctrl.flush()
			clients.add(ctrl)
			const ended = new Promise<void>((resolve) =>
				request.signal.addEventListener('abort', () => {
					clients.delete(ctrl)
					resolve()
				})
			)
			pulled?.(Bun.nanoseconds() - at)
			return ended
		},
		cancel() {}
	} as never)
	return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
}
