// The chat page in headless Chromium with tokens that expire every second: the page logs in,
// its stream ends with sluice:expired, connect() calls the page's headers function again (a new
// login) and resumes from Last-Event-ID: the room goes on, no message is lost or shown twice.
import { afterAll, describe, expect, test } from 'bun:test'
import type { Browser, Request } from 'playwright-core'
import { launchChromium } from '../support/chromium'
import { startExample, type ExampleProcess } from '../support/example'
import { chromiumPath, needService } from '../support/services'
import { bearer, CHAT_SECRET, chatToken } from '../support/chat'
import { postJson } from '../support/cluster'

const executablePath = chromiumPath()
const { skip } = needService('chromium', executablePath !== undefined)

describe.skipIf(skip)('the chat page with expiring tokens (Chromium)', () => {
	let browser: Browser | undefined
	let app: ExampleProcess | undefined
	afterAll(async () => {
		await browser?.close()
		await app?.stop()
	})

	test('logs in, and reads the room across token expiries without losing or repeating a message', async () => {
		app = await startExample('chat', { env: { TOKEN_TTL_S: '1', HEARTBEAT_MS: '500', CHAT_SECRET } })
		browser = await launchChromium(executablePath)
		const context = await browser.newContext()
		const requests: Request[] = []
		context.on('request', (r) => requests.push(r))
		const page = await context.newPage()
		await page.goto(`${app.url}/?name=Alice`)
		await page.locator('#status', { hasText: 'joined as Alice' }).waitFor()
		const logins = () => requests.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/login').length
		const streams = () => requests.filter((r) => r.method() === 'GET' && new URL(r.url()).pathname === '/chat/Alice').length

		// Bob talks every 100 ms until Alice's 1-2 s tokens have expired twice (each time she is away
		// for the expiry's retry hint, 1 to 1.5 s, while Bob goes on): at most 100 messages.
		let n = 0
		while (n < 100 && (n < 20 || streams() < 3)) {
			const sent = await postJson(`${app.url}/chat/send`, { message: `b${++n}` }, bearer(chatToken('Bob')))
			expect(sent.status).toBe(200)
			await Bun.sleep(100)
		}
		await page.locator('#messages li.message', { hasText: `Bob: b${n}` }).waitFor()
		expect(streams()).toBeGreaterThanOrEqual(3)
		expect(logins()).toBeGreaterThanOrEqual(3)
		// Each message once, in order, whatever the reconnects: the history filled the gaps, Last-Event-ID skipped what was shown.
		expect(await page.locator('#messages li.message').allTextContents()).toEqual(Array.from({ length: n }, (_, i) => `Bob: b${i + 1}`))
		// And Alice still speaks, as herself.
		await page.fill('#text', 'still here')
		await page.press('#text', 'Enter')
		await page.locator('#messages li.message', { hasText: 'Alice: still here' }).waitFor()
		for (const r of requests.filter((r) => new URL(r.url()).pathname === '/chat/Alice'))
			expect(r.headers()['authorization']).toMatch(/^Bearer /)
		await context.close()
	}, 30_000)
})
