/** Appends `response`'s body, decoded as UTF-8, to `into.text` as it arrives, until the body ends. */
export async function readTextInto(response: Response, into: { text: string }): Promise<void> {
	const reader = response.body!.getReader()
	const decoder = new TextDecoder()
	for (;;) {
		const { value, done } = await reader.read()
		if (done) return
		into.text += decoder.decode(value, { stream: true })
	}
}
