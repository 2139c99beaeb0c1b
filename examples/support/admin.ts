import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** What an example prints about its admin token, and the check of a request against it. */
export interface AdminToken {
	/** The lines the example adds to its startup write: how to send the token. */
	hint: string
	/**
	 * undefined when `request` carries `Authorization: Bearer <token>`; else the
	 * answer to send: 401 without the header, 403 with a wrong token.
	 */
	refusal(request: Request): Response | undefined
	/** The way into the dashboard at `url` for a browser: `?token=` once (the made token, or $ADMIN_TOKEN to fill in). */
	dashboardUrl(url: string): string
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * The examples' admin routes are guarded by a token, never by "the request
 * came from this machine" (behind a same-host proxy, every request does):
 * ADMIN_TOKEN from the environment, or a random one made now and printed at
 * start. Compared in constant time (both sides hashed to the same length).
 */
export function adminToken(env: Record<string, string | undefined> = process.env): AdminToken {
	const given = env.ADMIN_TOKEN
	const token = given || randomBytes(24).toString('base64url')
	const expected = digest(token)
	return {
		hint: given
			? `admin routes: send Authorization: Bearer $ADMIN_TOKEN`
			: `admin token (ADMIN_TOKEN was not set, so one was made): ${token}`,
		dashboardUrl: (url) => `${url}?token=${given ? '$ADMIN_TOKEN' : token}`,
		refusal(request) {
			const header = request.headers.get('authorization') ?? ''
			const match = /^Bearer +(\S+) *$/i.exec(header)
			if (!match)
				return Response.json(
					{ error: 'admin token required: Authorization: Bearer <token>' },
					{ status: 401, headers: { 'www-authenticate': 'Bearer' } }
				)
			if (!timingSafeEqual(digest(match[1]!), expected)) return Response.json({ error: 'forbidden' }, { status: 403 })
			return undefined
		}
	}
}
