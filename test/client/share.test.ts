// One stream for many tabs (issue 17), in headless Chromium: five tabs of one page read
// overlapping topics through sluice/client's shareTopics. The server sees one stream; every tab
// gets exactly its topics' events, in order; when the tab holding the connection closes (while
// events are being published), another takes over and no tab misses or doubles an event.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { chromium, type Browser, type Page } from 'playwright-core'
import { streaming } from '../../plugins'
import { chromiumPath, needService } from '../support/services'
import { listen, until, type TestServer } from '../support/server'

const executablePath = chromiumPath()
const { skip } = needService('Chromium', executablePath !== undefined)

const TOPICS = ['a', 'b', 'c', 'd']
const TABS = [['a', 'b'], ['b', 'c'], ['c'], ['a', 'd'], ['d', 'b']]
const app = new Elysia()
	.use(streaming({ connections: { maxPerAddress: 0 } }))
	.get('/live', ({ subscribe, query }) => {
		// The app decides which topics a client may read; here any of the four.
		const topics = String(query.topics ?? '').split(',')
		if (!topics.every((t) => TOPICS.includes(t))) return new Response('no such topic', { status: 403 })
		return subscribe(topics, { heartbeatMs: 0, retryMs: 100 })
	})
const hub = app.decorator.broadcast
const registry = app.decorator.connections
let server: TestServer
let browser: Browser
const published: Record<string, string[]> = { a: [], b: [], c: [], d: [] }

beforeAll(async () => {
	if (skip) return
	const built = await Bun.build({ entrypoints: [`${import.meta.dir}/share-entry.ts`], target: 'browser' })
	if (!built.success) throw new AggregateError(built.logs, 'bundling the page failed')
	const script = await built.outputs[0]!.text()
	app
		.get('/page.js', () => new Response(script, { headers: { 'content-type': 'text/javascript' } }))
		.get('/', () => new Response('<!doctype html><script type="module" src="/page.js"></script>', { headers: { 'content-type': 'text/html' } }))
	server = listen(app)
	browser = await chromium.launch({
		executablePath,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
	})
}, 30_000)

afterAll(async () => {
	await browser?.close()
	server?.stop()
})

const publish = async (topic: string) => {
	const data = `${topic}${published[topic]!.length}`
	published[topic]!.push(data)
	await hub.publish(topic, 'msg', data)
}
const got = (page: Page) => page.evaluate(() => (globalThis as any).got) as Promise<{ topic: string; data: string }[]>
const expected = (topics: string[]) =>
	Object.fromEntries(topics.map((t) => [t, published[t]!]))
const byTopic = (list: { topic: string; data: string }[]) => {
	const out: Record<string, string[]> = {}
	for (const m of list) (out[m.topic] ??= []).push(m.data)
	return out
}
const liveStreams = () => registry.list((c) => c.route === '/live').length

test.skipIf(skip)('five tabs, overlapping topics: one stream, each tab its topics; the leader closes, nothing lost or doubled', async () => {
	const context = await browser.newContext()
	const pages: Page[] = []
	for (const topics of TABS) {
		const page = await context.newPage()
		await page.goto(`${server.url}/?t=${topics.join(',')}`)
		pages.push(page)
	}
	// One stream carrying the union of every tab's topics.
	await until(() => liveStreams() === 1 && TOPICS.every((t) => hub.count(t) === 1), 10_000, 'one stream with every topic')
	for (let i = 0; i < 40; i++) await publish(TOPICS[i % 4]!)
	const allArrived = async (open: Page[]) => {
		for (const page of open) {
			const topics = TABS[pages.indexOf(page)]!
			const deadline = performance.now() + 10_000
			for (;;) {
				const list = await got(page)
				if (topics.every((t) => (byTopic(list)[t]?.length ?? 0) >= published[t]!.length)) break
				if (performance.now() > deadline) throw new Error(`tab ${topics} got ${JSON.stringify(byTopic(list))}`)
				await Bun.sleep(20)
			}
		}
	}
	await allArrived(pages)
	for (const [i, page] of pages.entries()) expect(byTopic(await got(page))).toEqual(expected(TABS[i]!))
	expect(liveStreams()).toBe(1)

	const leaders = await Promise.all(pages.map((p) => p.evaluate(() => (globalThis as any).leader())))
	expect(leaders.filter(Boolean).length).toBe(1)
	const leader = pages[leaders.indexOf(true)]!
	const [before] = registry.list((c) => c.route === '/live')
	// Publishing goes on while the leader tab closes and another takes over.
	let publishing = true
	const during = (async () => {
		for (let i = 0; publishing || i < 40; i++) {
			await publish(TOPICS[i % 4]!)
			if (i % 5 === 0) await Bun.sleep(5)
		}
	})()
	await leader.close()
	const rest = pages.filter((p) => p !== leader)
	await until(() => registry.list((c) => c.route === '/live' && c.id !== before!.id).length === 1 && liveStreams() === 1, 10_000, 'a new leader')
	publishing = false
	await during
	for (let i = 0; i < 8; i++) await publish(TOPICS[i % 4]!)
	await allArrived(rest)
	for (const page of rest) expect(byTopic(await got(page))).toEqual(expected(TABS[pages.indexOf(page)]!))
	const newLeaders = await Promise.all(rest.map((p) => p.evaluate(() => (globalThis as any).leader())))
	expect(newLeaders.filter(Boolean).length).toBe(1)
	expect(liveStreams()).toBe(1)
	expect(await Promise.all(rest.map((p) => p.evaluate(() => (globalThis as any).failed)))).toEqual(rest.map(() => undefined))
	await context.close()
}, 60_000)
