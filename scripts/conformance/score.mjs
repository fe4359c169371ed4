// Scores a run of the HTTP cache-tests suite as a shared cache sees it:
// required and optimal tests passed, a test whose prerequisite failed
// counted as failed, browser-only tests left out.
//   node score.mjs SUITE_DIR RESULTS.json [--list]
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [suiteDir, resultsFile, flag] = process.argv.slice(2)
if (!suiteDir || !resultsFile) {
  console.error('usage: node score.mjs SUITE_DIR RESULTS.json [--list]')
  process.exit(2)
}
const load = async (rel) => import(pathToFileURL(path.join(suiteDir, rel)).href)
const groups = (await load('tests/index.mjs')).default
groups.push((await load('tests/surrogate-control.mjs')).default)
const { determineTestResult } = await load('lib/display.mjs')
const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'))

const score = { required: { passed: 0, total: 0 }, optimal: { passed: 0, total: 0 } }
const failures = []
for (const group of groups) {
  for (const test of group.tests) {
    if (test.browser_only === true) continue
    const kind = test.kind ?? 'required'
    if (!(kind in score)) continue
    const ok = determineTestResult(groups, test.id, results)[2] === '✅'
    score[kind].total++
    if (ok) score[kind].passed++
    else failures.push(`${kind}\t${test.id}\t${JSON.stringify(results[test.id] ?? 'untested')}`)
  }
}
if (flag === '--list') console.log(failures.join('\n'))
console.log(`required ${score.required.passed}/${score.required.total} optimal ${score.optimal.passed}/${score.optimal.total}`)
