// The chat page and the analytics dashboard in headless Chromium, reading their streams with
// sluice/client (bundled by the example): the browser's own EventSource is removed from every page.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import type { Browser, BrowserContext, Request } from 'playwright-core'
import { launchChromium } from '../support/chromium'
import { startExample, type ExampleProcess } from '../support/example'
import { chromiumPath, needService } from '../support/services'

const executablePath = chromiumPath()
const { skip } = needService('chromium', executablePath !== undefined)
const artifacts = `${import.meta.dir}/../artifacts`

/**
 * A browser context whose pages have no EventSource (a page that used it would
 * fail), and a log of every request its pages make.
 */
async function withoutEventSource(browser: Browser, viewport: { width: number; height: number }) {
	const context = await browser.newContext({ viewport })
	await context.addInitScript('delete window.EventSource')
	const requests: Request[] = []
	context.on('request', (r) => requests.push(r))
	return { context, requests }
}

/**
 * Checks that the page loaded the example's bundle of sluice/client, read its
 * stream at `streamPath` with fetch (not EventSource), and loaded nothing from
 * another origin (no CDN).
 */
async function expectSluiceClient(context: BrowserContext, requests: Request[], origin: string, streamPath: string) {
	const page = context.pages()[0]!
	expect(await page.evaluate('typeof EventSource')).toBe('undefined')
	expect(await page.getAttribute('html', 'data-sse-client')).toBe('sluice/client')
	const bundle = requests.find((r) => new URL(r.url()).pathname === '/sluice-client.js')
	expect(bundle).toBeDefined()
	const answer = await bundle!.response()
	expect(answer?.status()).toBe(200)
	expect(answer?.headers()['content-type']).toBe('text/javascript; charset=utf-8')
	expect(await answer!.text()).toContain('text/event-stream')
	const streams = requests.filter((r) => r.method() === 'GET' && new URL(r.url()).pathname.startsWith(streamPath))
	expect(streams.length).toBeGreaterThan(0)
	for (const r of streams) {
		expect(r.resourceType()).toBe('fetch')
		expect(r.headers()['accept']).toBe('text/event-stream')
	}
	expect(requests.filter((r) => r.resourceType() === 'eventsource')).toEqual([])
	expect(requests.map((r) => new URL(r.url()).origin).filter((o) => o !== origin)).toEqual([])
}

describe.skipIf(skip)('pages in headless Chromium', () => {
	let browser: Browser
	const running: ExampleProcess[] = []
	beforeAll(async () => {
		mkdirSync(artifacts, { recursive: true })
		browser = await launchChromium(executablePath)
	})
	afterAll(async () => {
		await browser?.close()
		for (const p of running) await p.stop()
	})

	test('chat: a message sent from one page shows in the other', async () => {
		const app = await startExample('chat')
		running.push(app)
		const { context, requests } = await withoutEventSource(browser, { width: 720, height: 620 })
		const alice = await context.newPage()
		const bob = await context.newPage()
		await alice.goto(`${app.url}/?name=Alice`)
		await alice.locator('#status', { hasText: 'joined as Alice' }).waitFor()
		await bob.goto(`${app.url}/`)
		await bob.fill('#name', 'Bob')
		await bob.click('#join button')
		await bob.locator('#status', { hasText: 'joined as Bob' }).waitFor()
		await alice.locator('#messages li', { hasText: 'Bob joined (2 here)' }).waitFor()

		await bob.fill('#text', 'Hello from Bob <b>not bold</b>')
		await bob.press('#text', 'Enter')
		const line = alice.locator('#messages li.message', { hasText: 'Hello from Bob' })
		await line.waitFor()
		// Text, not markup: the page never injects what others send.
		expect(await line.textContent()).toBe('Bob: Hello from Bob <b>not bold</b>')
		expect(await bob.inputValue('#text')).toBe('')
		await alice.screenshot({ path: `${artifacts}/chat.png` })
		await expectSluiceClient(context, requests, app.url, '/chat/')
		// Each page logged in first, and streams and sends with its token in a header, not the URL.
		expect(requests.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/login').length).toBeGreaterThanOrEqual(2)
		for (const r of requests.filter((r) => /^\/chat\/(Alice|Bob|send)$/.test(new URL(r.url()).pathname))) {
			expect(r.headers()['authorization']).toMatch(/^Bearer [\w-]+\.[\w-]+$/)
			expect(r.url()).not.toContain('token=')
		}

		await bob.close()
		await alice.locator('#messages li', { hasText: 'Bob left (1 here)' }).waitFor()
		await context.close()
	}, 30_000)

	test('analytics: the counters and the chart move as events arrive', async () => {
		const app = await startExample('analytics', { env: { ANALYTICS_INTERVAL_MS: '600000' } })
		running.push(app)
		const { context, requests } = await withoutEventSource(browser, { width: 900, height: 560 })
		const page = await context.newPage()
		await page.goto(`${app.url}/`)
		await page.locator('#status', { hasText: 'live' }).waitFor()
		await page.waitForFunction(`document.getElementById('chart').dataset.points === '1'`)
		expect(await page.textContent('#page_views')).toBe('0')
		for (let n = 1; n <= 5; n++) {
			await fetch(`${app.url}/track/page-view`, { method: 'POST' })
			await fetch(`${app.url}/track/api-call`, { method: 'POST' })
		}
		await page.waitForFunction(`document.getElementById('chart').dataset.points === '11'`)
		expect(await page.textContent('#page_views')).toBe('5')
		expect(await page.textContent('#api_calls')).toBe('5')
		expect(await page.textContent('#unique_visitors')).toBe('5')
		// Lines were drawn: the chart has pixels of the page-view colour.
		// (Page code as a string: the test is compiled without the DOM library.)
		const drawn = await page.evaluate<number>(`(() => {
			const c = document.getElementById('chart')
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
			let blue = 0
			for (let i = 0; i < d.length; i += 4) if (d[i] === 0x4f && d[i + 1] === 0x8c && d[i + 2] === 0xff) blue++
			return blue
		})()`)
		expect(drawn).toBeGreaterThan(100)
		await page.screenshot({ path: `${artifacts}/analytics.png` })
		await expectSluiceClient(context, requests, app.url, '/analytics-stream')
		await context.close()
	}, 30_000)
})
