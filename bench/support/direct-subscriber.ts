// The hand-written SSE subscriber the benchmarks' raw Bun baselines serve.

export interface Direct {
	write(chunk: string | Uint8Array): number | Promise<number>
	flush(): void
	close(): void
}

/** The hand-written subscriber: a direct stream that registers its controller and leaves on abort. */
export function directSubscriber(request: Request, clients: Set<Direct>): Response {
	const body = new ReadableStream({
		type: 'direct',
		pull(ctrl: Direct) {
			ctrl.write(': open\n\n')
			ctrl.flush()
			clients.add(ctrl)
			return new Promise<void>((resolve) =>
				request.signal.addEventListener('abort', () => {
					clients.delete(ctrl)
					resolve()
				})
			)
		},
		cancel() {}
	} as never)
	return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
}
