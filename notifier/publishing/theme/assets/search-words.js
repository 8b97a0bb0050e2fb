/* Chinese search finds and highlights whole words, not their first characters.

   Why: Material's search worker splits a Chinese query into the words of its index
   (`segment()` in integrations/search/query/segment, Material 9.8 and its master branch), but
   its loop stops one character before the end of the query. A query that is one indexed word
   (未成年人, 个人信息) is never looked up whole and falls back to its longest indexed prefix
   (未, 个人); the worker searches 未*, every word starting with 未 matches, the result links carry
   ?h=未, and the page then marks 未 alone. The last word of a longer query is dropped the same way.
   No search setting reaches that function: the separator (U+200B between the words jieba cuts at
   build time) and the pipeline are right.

   What: before a query reaches the worker, each run of Chinese characters is split here into
   the index's words, longest first (what is left at the end may be the start of a word still
   being typed), and each word is written with lunr's escape between its characters (未\成\年\人).
   The worker's segmentation then sees single characters and keeps them, and lunr's query parser
   drops the escapes, so the worker searches 未成年人* and names 未成年人 as the term to highlight.
   The words are those of the index the page hands to the worker. Both the index and each query
   pass through Worker.prototype.postMessage, the one place this script hooks into. */
(() => {
  "use strict"
  const SETUP = 0, QUERY = 2  // Material's SearchMessageType
  const HAN = /\p{sc=Han}+/gu
  let index = null            // { config, docs } as sent to the worker
  let words = null            // the index's Chinese words, and every start of one
  let starts = null

  function learn() {
    words = new Set()
    starts = new Set()
    const separator = new RegExp(index.config.separator)
    for (const doc of index.docs)
      for (const field of [doc.title, doc.text])
        for (const token of String(field || "").replace(/<[^>]*>/g, " ").split(separator)) {
          if (!/\p{sc=Han}/u.test(token) || words.has(token))
            continue
          words.add(token)
          const chars = [...token]
          for (let end = 1; end <= chars.length; end++)
            starts.add(chars.slice(0, end).join(""))
        }
  }

  function split(run) {
    const chars = [...run]
    const found = []
    for (let i = 0; i < chars.length;) {
      const rest = chars.slice(i).join("")
      if (starts.has(rest)) {
        found.push(rest)
        break
      }
      let j = chars.length
      while (j > i + 1 && !words.has(chars.slice(i, j).join("")))
        j--
      found.push(chars.slice(i, j).join(""))
      i = j
    }
    return found
  }

  function wholeWords(query) {
    if (words === null)
      learn()
    return query.replace(HAN, run => split(run).map(word => [...word].join("\\")).join(" "))
  }

  const post = Worker.prototype.postMessage
  Worker.prototype.postMessage = function (message, ...rest) {
    if (message && message.type === SETUP && message.data && message.data.docs) {
      index = message.data
      words = starts = null
    } else if (message && message.type === QUERY && typeof message.data === "string" && index) {
      message = { ...message, data: wholeWords(message.data) }
    }
    return post.call(this, message, ...rest)
  }
})()
