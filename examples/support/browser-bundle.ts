/**
 * Bundles a browser entry with Bun.build when an example starts and returns a
 * handler that serves it, so a page loads sluice/client from the example
 * itself, never from a CDN. A failed build stops the example with its logs.
 */
export async function browserBundle(entry: string): Promise<() => Response> {
	const built = await Bun.build({ entrypoints: [entry], target: 'browser', format: 'esm', minify: true })
	if (!built.success) throw new AggregateError(built.logs, `bundling ${entry} for the browser failed`)
	const code = await built.outputs[0]!.text()
	return () =>
		new Response(code, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } })
}

/** The bundle of examples/pages/client.ts: connect() and the pages' typed events. */
export const pagesClient = () => browserBundle(`${import.meta.dir}/../pages/client.ts`)
