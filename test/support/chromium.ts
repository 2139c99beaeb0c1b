import { chromium, type Browser } from 'playwright-core'

// Headless, as root, on a machine with no network beyond loopback: without the background
// networking flags, Chromium's own connections are refused many at a time.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Launches Debian's Chromium (its path from chromiumPath()) for a browser test. */
export function launchChromium(executablePath: string | undefined): Promise<Browser> {
	return chromium.launch({ executablePath, args: ARGS })
}
