// One stream for many tabs (issue 17), in headless Chromium: five tabs of one page read
// overlapping topics through sluice/client's shareTopics. The server sees one stream; every tab
// gets exactly its topics' events, in order; when the tab holding the connection closes (while
// events are being published), another takes over and no tab misses or doubles an event.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../support/chromium'
import { streaming } from '../../plugins'
import { chromiumPath, needService } from '../support/services'
import { listen, until, type TestServer } from '../support/server'

const executablePath = chromiumPath()
const { skip } = needService('Chromium', executablePath !== undefined)

const TOPICS = ['a', 'b', 'c', 'd']
const TABS = [['a', 'b'], ['b', 'c'], ['c'], ['a', 'd'], ['d', 'b']]
const app = new Elysia()
	.use(streaming({ connections: { maxPerAddress: 0 } }))
	.get('/live', async ({ subscribe, query }) => {
		// The app decides which topics a client may read; here any of the four.
		const topics = String(query.topics ?? '').split(',')
		if (!topics.every((t) => TOPICS.includes(t))) return new Response('no such topic', { status: 403 })
		// A test holds new streams back here, to publish while no stream is open.
		await gate
		return subscribe(topics, { heartbeatMs: 0, retryMs: 100 })
	})
let gate: Promise<void> | undefined
const hub = app.decorator.broadcast
const registry = app.decorator.connections
let server: TestServer
let browser: Browser
const published: Record<string, string[]> = { a: [], b: [], c: [], d: [] }

beforeAll(async () => {
	if (skip) return
	const bundle = async (entry: string) => {
		const built = await Bun.build({ entrypoints: [`${import.meta.dir}/${entry}`], target: 'browser' })
		if (!built.success) throw new AggregateError(built.logs, `bundling ${entry} failed`)
		return built.outputs[0]!.text()
	}
	const script = await bundle('share-entry.ts')
	const worker = await bundle('share-worker-entry.ts')
	app
		.get('/page.js', () => new Response(script, { headers: { 'content-type': 'text/javascript' } }))
		.get('/share-worker.js', () => new Response(worker, { headers: { 'content-type': 'text/javascript' } }))
		.get('/', () => new Response('<!doctype html><script type="module" src="/page.js"></script>', { headers: { 'content-type': 'text/html' } }))
	server = listen(app)
	browser = await launchChromium(executablePath)
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

/** Waits until each open page has every event of its topics published so far. */
async function allArrived(pages: Page[], tabs: string[][]) {
	for (const [i, page] of pages.entries()) {
		const topics = tabs[i]!
		const deadline = performance.now() + 10_000
		for (;;) {
			const list = await got(page)
			if (topics.every((t) => (byTopic(list)[t]?.length ?? 0) >= published[t]!.length)) break
			if (performance.now() > deadline) throw new Error(`tab ${topics} got ${JSON.stringify(byTopic(list))}`)
			await Bun.sleep(20)
		}
	}
}

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
	await allArrived(pages, TABS)
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
	await allArrived(rest, rest.map((p) => TABS[pages.indexOf(p)]!))
	for (const page of rest) expect(byTopic(await got(page))).toEqual(expected(TABS[pages.indexOf(page)]!))
	const newLeaders = await Promise.all(rest.map((p) => p.evaluate(() => (globalThis as any).leader())))
	expect(newLeaders.filter(Boolean).length).toBe(1)
	expect(liveStreams()).toBe(1)
	expect(await Promise.all(rest.map((p) => p.evaluate(() => (globalThis as any).failed)))).toEqual(rest.map(() => undefined))
	await context.close()
}, 60_000)

test.skipIf(skip)('in a SharedWorker: one stream for five tabs; tabs that close take their topics out, and the rest miss nothing', async () => {
	const context = await browser.newContext()
	const pages: Page[] = []
	for (const topics of TABS) {
		const page = await context.newPage()
		await page.goto(`${server.url}/?worker=1&t=${topics.join(',')}`)
		pages.push(page)
	}
	expect(await pages[0]!.evaluate(() => typeof (globalThis as any).SharedWorker)).toBe('function')
	await until(() => liveStreams() === 1 && TOPICS.every((t) => hub.count(t) === 1), 10_000, 'one stream with every topic')
	// These pages are new: what they should get starts here.
	for (const t of TOPICS) published[t] = []
	for (let i = 0; i < 40; i++) await publish(TOPICS[i % 4]!)
	await allArrived(pages, TABS)
	for (const [i, page] of pages.entries()) expect(byTopic(await got(page))).toEqual(expected(TABS[i]!))
	// No tab holds the connection: the worker does.
	expect(await Promise.all(pages.map((p) => p.evaluate(() => (globalThis as any).leader())))).toEqual(TABS.map(() => false))

	// The two tabs reading d close: the stream is opened again without d. Its request is held
	// until events have been published while no stream was open: those only a resume delivers.
	const [before] = registry.list((c) => c.route === '/live')
	let open!: () => void
	gate = new Promise((resolve) => (open = resolve))
	await pages[3]!.close({ runBeforeUnload: true })
	await pages[4]!.close({ runBeforeUnload: true })
	await until(() => liveStreams() === 0, 10_000, 'the stream with d to close')
	for (let i = 0; i < 12; i++) await publish(TOPICS[i % 4]!)
	open()
	gate = undefined
	await until(() => registry.list((c) => c.route === '/live' && c.id !== before!.id).length === 1 && liveStreams() === 1, 10_000, 'the stream without d')
	expect(registry.list((c) => c.route === '/live')[0]!.topics.sort()).toEqual(['a', 'b', 'c'])
	for (let i = 0; i < 8; i++) await publish(TOPICS[i % 4]!)
	const rest = pages.slice(0, 3)
	await allArrived(rest, TABS.slice(0, 3))
	for (const [i, page] of rest.entries()) expect(byTopic(await got(page))).toEqual(expected(TABS[i]!))
	await context.close()
}, 60_000)
