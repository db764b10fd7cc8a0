/**
 * Crawlers and bots that say what they are (Googlebot, bingbot, link previews, SEO tools, headless
 * browsers) are answered without a contact, a decision or a write: they are not visitors. The list is
 * isbot's, a kept library, less its patterns for plain HTTP clients (curl, scripts): anyone can send a
 * browser's User-Agent, so refusing those would stop no attacker and only puzzle developers.
 */
import { createIsbotFromList, list } from 'isbot'

const HTTP_CLIENTS = ['curl/8.4.0', 'Wget/1.21.4', 'python-requests/2.31.0', 'node', 'undici', 'Go-http-client/2.0', 'okhttp/4.12.0', 'axios/1.6.8', 'PostmanRuntime/7.36.0']

/** Whether a User-Agent is a crawler or bot that announces itself. */
export const isCrawler = createIsbotFromList(list.filter((pattern) => !HTTP_CLIENTS.some((ua) => new RegExp(pattern, 'i').test(ua))))
