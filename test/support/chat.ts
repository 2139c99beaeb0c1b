import { tokenSigner } from '../../examples/support/token'

/** The secret the tests give examples/chat.ts (CHAT_SECRET), so they can sign its tokens themselves. */
export const CHAT_SECRET = 'test-chat-secret'

const signer = tokenSigner({ CHAT_SECRET }, 'CHAT_SECRET')

/** A chat token for `user`, valid for `ttlS` seconds, as POST /login of an example started with CHAT_SECRET gives. */
export function chatToken(user: string, ttlS = 3600): string {
	return signer.sign({ sub: user, exp: Math.floor(Date.now() / 1000) + ttlS })
}

/** The Authorization header of a chat token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
