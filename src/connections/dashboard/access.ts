import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** The cookie a browser's token is kept in after `?token=` (HttpOnly, SameSite=Strict, the dashboard's path only). */
export const DASHBOARD_COOKIE = 'sluice_dashboard'

/** The header the page's close action carries its per-page token in. */
export const CSRF_HEADER = 'x-sluice-csrf'

/** The dashboard's token cookie of `request`, if it carries one. */
export function tokenCookie(request: Request): string | undefined {
	const header = request.headers.get('cookie')
	if (!header) return undefined
	for (const part of header.split(';')) {
		const [name, ...value] = part.trim().split('=')
		if (name === DASHBOARD_COOKIE) {
			try {
				return decodeURIComponent(value.join('=')) || undefined
			} catch {
				return undefined
			}
		}
	}
	return undefined
}

/** The Set-Cookie value that keeps `token` for the pages under `path`: never readable by scripts, never sent cross-site. */
export function tokenCookieHeader(token: string, path: string, secure: boolean): string {
	const attributes = [`Path=${path}`, 'HttpOnly', 'SameSite=Strict', 'Max-Age=43200']
	if (secure) attributes.push('Secure')
	return `${DASHBOARD_COOKIE}=${encodeURIComponent(token)}; ${attributes.join('; ')}`
}

/**
 * True when a state-changing request comes from a page of this origin: the
 * browser's `Sec-Fetch-Site` says same-origin, or (an older browser) its
 * `Origin` names this host. A request with neither is refused.
 */
export function fromSameOrigin(request: Request): boolean {
	const site = request.headers.get('sec-fetch-site')
	if (site) return site === 'same-origin'
	const origin = request.headers.get('origin')
	if (!origin) return false
	try {
		return new URL(origin).host === new URL(request.url).host
	} catch {
		return false
	}
}

/**
 * Per-page tokens for the close action: a random nonce and its HMAC under a
 * secret of this process, so nothing is stored per page. A page from another
 * process (or from before a restart) is refused: reload it.
 */
export class PageTokens {
	readonly #secret = randomBytes(32)

	issue(): string {
		const nonce = randomBytes(16).toString('base64url')
		return `${nonce}.${this.#mac(nonce)}`
	}

	check(token: string | null): boolean {
		if (!token) return false
		const [nonce, mac, extra] = token.split('.')
		if (!nonce || !mac || extra !== undefined) return false
		const expected = Buffer.from(this.#mac(nonce))
		const given = Buffer.from(mac)
		return given.length === expected.length && timingSafeEqual(given, expected)
	}

	#mac(nonce: string): string {
		return createHmac('sha256', this.#secret).update(nonce).digest('base64url')
	}
}
