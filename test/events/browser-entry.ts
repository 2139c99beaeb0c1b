// Bundled for the browser by test/events/browser.test.ts: sluice/client in a real page.
import { Type as t } from '@sinclair/typebox'
import { connect, events } from '../../src/client'

const feed = events({ count: t.Object({ n: t.Number() }), note: t.String(), any: t.Unknown() })

/** Reads up to `max` events from `url`, then leaves the loop (which closes the request). */
async function read(url: string, max: number, options: { retryMs?: number } = {}) {
	const got: unknown[] = []
	for await (const m of connect(url, { events: feed, ...options })) {
		got.push(m)
		if (got.length >= max) break
	}
	return got
}

Object.assign(globalThis, { sluiceRead: read })
