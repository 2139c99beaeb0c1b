import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** What a chat token says: who, and until when (epoch seconds, as JWT's `exp`). */
export interface TokenClaims {
	sub: string
	exp: number
}

/**
 * Signed tokens for the examples: `<claims as base64url JSON>.<HMAC-SHA256>`,
 * the idea of a JWT without a dependency. A real app would use @elysiajs/jwt
 * or a signed cookie; what matters to Sluice is the `sub` and `exp` it gives
 * the stream. The secret comes from `secretEnv`, else is made at start (then
 * tokens do not survive a restart, nor work on another process).
 */
export function tokenSigner(env: Record<string, string | undefined>, secretEnv: string) {
	const secret = env[secretEnv] || randomBytes(32).toString('base64url')
	const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest()
	return {
		/** Whether the secret came from the environment (processes of a cluster must share it). */
		shared: !!env[secretEnv],
		sign(claims: TokenClaims): string {
			const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
			return `${payload}.${mac(payload).toString('base64url')}`
		},
		/** The claims of a token signed with the secret and not expired; undefined otherwise. */
		verify(token: string, nowMs = Date.now()): TokenClaims | undefined {
			const [payload, signature, extra] = token.split('.')
			if (!payload || !signature || extra !== undefined) return undefined
			const given = Buffer.from(signature, 'base64url')
			const expected = mac(payload)
			// Constant time: a forger learns nothing from how long a wrong signature took.
			if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
			try {
				const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims
				if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined
				return claims.exp * 1000 > nowMs ? claims : undefined
			} catch {
				return undefined
			}
		}
	}
}

/** The bearer token of a request: `Authorization: Bearer <token>`, else the `token` query parameter (EventSource cannot send headers). */
export function bearerOf(request: Request): string | undefined {
	const header = /^Bearer +(\S+) *$/i.exec(request.headers.get('authorization') ?? '')
	return header?.[1] ?? new URL(request.url).searchParams.get('token') ?? undefined
}
