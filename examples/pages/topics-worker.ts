// The SharedWorker of the topics page, served as /topics-worker.js: it holds the page's one
// stream for every tab (shareTopics' `worker` option), where the browser has SharedWorker.
import { shareWorker } from 'sluice/client'

shareWorker()
