import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../support/chromium'
import { chromiumPath, needService } from '../support/services'
import { until } from '../support/server'
import { shapes, startFixture } from './fixture'

// sluice/client in headless Chromium, against the same server as the Bun tests.
const executablePath = chromiumPath()
const { skip } = needService('Chromium', executablePath !== undefined)

let fx: ReturnType<typeof startFixture>
let browser: Browser
let page: Page

beforeAll(async () => {
	if (skip) return
	const built = await Bun.build({ entrypoints: [`${import.meta.dir}/browser-entry.ts`], target: 'browser' })
	if (!built.success) throw new AggregateError(built.logs, 'bundling the browser client failed')
	const script = await built.outputs[0]!.text()
	fx = startFixture()
	fx.app
		.get('/client.js', () => new Response(script, { headers: { 'content-type': 'text/javascript' } }))
		.get('/', () => new Response('<!doctype html><script src="/client.js"></script>', { headers: { 'content-type': 'text/html' } }))
	browser = await launchChromium(executablePath)
	page = await browser.newPage()
	await page.goto(fx.server.url + '/')
	await page.waitForFunction(() => 'sluiceRead' in globalThis)
}, 30_000)

afterAll(async () => {
	await browser?.close()
	await fx?.server.stop()
})

const read = (path: string, max: number) =>
	page.evaluate(([p, m]) => (globalThis as any).sluiceRead(p, m), [fx.server.url + path, max] as const) as Promise<unknown[]>

test.skipIf(skip)('in a browser, every data shape arrives exactly as sent', async () => {
	expect(await read('/shapes', shapes.length)).toEqual(shapes)
})

test.skipIf(skip)('in a browser, it reconnects with the last id', async () => {
	const before = fx.hits('/count').length
	const got = (await read('/count', 5)) as { id: string }[]
	expect(got.map((m) => m.id)).toEqual(['1', '2', '3', '4', '5'])
	expect(fx.hits('/count').slice(before).map((r) => r.lastEventId)).toEqual([null, '3'])
})

test.skipIf(skip)('in a browser, break closes the request: the server sees the client leave', async () => {
	const left = fx.seen.left
	expect(await read('/forever', 1)).toEqual([{ event: 'count', data: { n: 1 } }])
	// Seen at once on an idle machine; the bound leaves room for a loaded CI machine.
	await until(() => fx.seen.left === left + 1, 5000, 'the server to see the browser leave')
})
