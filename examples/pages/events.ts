// The typed events of the chat room and the analytics dashboard, shared by the servers
// (broadcast checks and encodes every publish by them) and the pages (connect() decodes by them).
// TypeBox itself, not Elysia's `t`: this file is bundled for the browser.
import { Type as t } from '@sinclair/typebox'
import { events } from 'sluice/client'

export const chatEvents = events({
	message: t.Object({ type: t.Literal('chat_message'), sender: t.String(), message: t.String(), timestamp: t.String() }),
	join: t.Object({ type: t.Literal('user_joined'), user: t.String(), clients_count: t.Integer(), timestamp: t.String() }),
	leave: t.Object({ type: t.Literal('user_left'), user: t.String(), clients_count: t.Integer(), timestamp: t.String() })
})

export const analyticsEvents = events({
	update: t.Object({
		page_views: t.Integer(),
		api_calls: t.Integer(),
		errors: t.Integer(),
		unique_visitors: t.Integer(),
		timestamp: t.String()
	})
})
