/** The device class read from a request: real User-Agents of phones, tablets and desktops, then hints. */
import { describe, expect, it } from 'vitest'
import { type Device, deviceOf } from './device'

const fromUserAgent = (userAgent: string) => deviceOf(new Headers({ 'user-agent': userAgent }))

const USER_AGENTS: ReadonlyArray<readonly [string, string, Device]> = [
  // Phones
  ['iPhone Safari (iOS 18)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1', 'mobile'],
  ['iPhone Chrome', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.153 Mobile/15E148 Safari/604.1', 'mobile'],
  ['iPod touch', 'Mozilla/5.0 (iPod touch; CPU iPhone OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53', 'mobile'],
  ['Android phone Chrome (reduced User-Agent)', 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'mobile'],
  ['Pixel 7 Chrome', 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Mobile Safari/537.36', 'mobile'],
  ['Android phone Edge', 'Mozilla/5.0 (Linux; Android 14; Pixel 7a Build/AP2A.240905.003; ) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64', 'mobile'],
  ['Samsung Internet on a Galaxy phone', 'Mozilla/5.0 (Linux; Android 10; SAMSUNG SM-A217F) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/11.0 Chrome/75.0.3770.143 Mobile Safari/537.36', 'mobile'],
  ['Firefox for Android', 'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0', 'mobile'],
  ['Facebook in-app browser on Android', 'Mozilla/5.0 (Linux; Android 14; Pixel 9 Pro Build/AD1A.240530.047; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/134.0.6998.170 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/506.1.0.74.27;IABMV/1;]', 'mobile'],
  ['Googlebot smartphone', 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.6998.165 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'mobile'],
  ['Windows Phone Edge', 'Mozilla/5.0 (Windows Phone 10.0; Android 4.2.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2486.0 Mobile Safari/537.36 Edge/13.10586', 'mobile'],
  ['Windows Phone Internet Explorer', 'Mozilla/5.0 (compatible; MSIE 9.0; Windows Phone OS 7.5; Trident/5.0; IEMobile/9.0; Xbox)', 'mobile'],
  ['Opera Mini on a feature phone', 'Opera/9.80 (J2ME/MIDP; Opera Mini/5.1.21214/19.916; U; en) Presto/2.5.25', 'mobile'],
  ['BlackBerry', 'Mozilla/5.0 (BlackBerry; U; BlackBerry 9780; en) AppleWebKit/534.8+ (KHTML, like Gecko) Version/6.0.0.546 Mobile Safari/534.8+', 'mobile'],
  ['BlackBerry 10', 'Mozilla/5.0 (BB10; Touch) AppleWebKit/537.10+ (KHTML, like Gecko) Version/10.0.9.2372 Mobile Safari/537.10+', 'mobile'],
  // Tablets
  ['iPad Safari (iPadOS before 13, or mobile mode)', 'Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1', 'tablet'],
  ['iPad Chrome', 'Mozilla/5.0 (iPad; CPU OS 16_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/112.0.5615.167 Mobile/15E148 Safari/604.1', 'tablet'],
  ['Android tablet Chrome (reduced User-Agent)', 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'tablet'],
  ['Samsung Galaxy Tab S8 Chrome', 'Mozilla/5.0 (Linux; Android 12; SM-X706B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.5060.53 Safari/537.36', 'tablet'],
  ['Samsung Internet on a Galaxy Tab', 'Mozilla/5.0 (Linux; Android 10; SAMSUNG SM-T515) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/13.0 Chrome/83.0.4103.106 Safari/537.36', 'tablet'],
  ['Pixel Tablet web view', 'Mozilla/5.0 (Linux; Android 14; Pixel Tablet Build/AP2A.240905.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.107 Safari/537.36', 'tablet'],
  ['Firefox on an Android tablet', 'Mozilla/5.0 (Android 4.4; Tablet; rv:41.0) Gecko/41.0 Firefox/41.0', 'tablet'],
  ['Kindle Fire Silk', 'Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.0.0.0 like Chrome/120.0.0.0 Safari/537.36', 'tablet'],
  ['first Kindle Fire Silk, which says Mobile', 'Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.4 Mobile Safari/535.19 Silk-Accelerated=true', 'tablet'],
  ['Kindle e-reader', 'Mozilla/4.0 (compatible; Linux 2.6.22) NetFront/3.4 Kindle/2.5 (screen 600x800; rotate)', 'tablet'],
  // Desktops
  ['Windows Chrome', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'desktop'],
  ['Windows Edge', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'desktop'],
  ['Windows Firefox', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'desktop'],
  ['Internet Explorer on a Windows touch tablet', 'Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; .NET4.0E; .NET4.0C; .NET CLR 3.5.30729; .NET CLR 2.0.50727; .NET CLR 3.0.30729; Tablet PC 2.0; GWX:MANAGED; rv:11.0) like Gecko', 'desktop'],
  ['macOS Safari', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 'desktop'],
  ['macOS Chrome', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'desktop'],
  ['macOS Firefox', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0', 'desktop'],
  ['Linux Firefox', 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'desktop'],
  ['Linux Chrome', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'desktop'],
  ['ChromeOS', 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Safari/537.36', 'desktop'],
  ['ChromeOS on an ARM tablet', 'Mozilla/5.0 (X11; CrOS aarch64 13310.93.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.133 Safari/537.36', 'desktop'],
  ['Googlebot desktop', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'desktop'],
  ['curl', 'curl/8.4.0', 'desktop'],
  ['an empty User-Agent', '', 'desktop'],
]

describe('deviceOf from the User-Agent', () => {
  it.each(USER_AGENTS.map(([name, userAgent, expected]) => ({ name, userAgent, expected })))('$name is a $expected', ({ userAgent, expected }) => {
    expect(fromUserAgent(userAgent)).toBe(expected)
  })

  it('counts a request without a User-Agent as a desktop', () => {
    expect(deviceOf(new Headers())).toBe('desktop')
  })

  // iPadOS 13+ Safari sends exactly the Mac's User-Agent and no client hints: nothing in the request
  // tells them apart, so the iPad counts as a desktop.
  it('counts Safari on an iPad in desktop mode as a desktop, the same User-Agent as a Mac', () => {
    const iPadDesktopMode = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15'
    expect(fromUserAgent(iPadDesktopMode)).toBe('desktop')
  })
})

describe('deviceOf from client hints', () => {
  const ANDROID_TABLET_DESKTOP_SITE = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
  const ANDROID_PHONE = 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36'
  const WINDOWS_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
  const MAC_SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15'

  it('takes Sec-CH-UA-Mobile ?1 as a phone', () => {
    expect(deviceOf(new Headers({ 'user-agent': ANDROID_PHONE, 'sec-ch-ua-mobile': '?1', 'sec-ch-ua-platform': '"Android"' }))).toBe('mobile')
  })

  it('takes Sec-CH-UA-Mobile ?1 as a phone even when the User-Agent is missing', () => {
    expect(deviceOf(new Headers({ 'sec-ch-ua-mobile': '?1' }))).toBe('mobile')
  })

  it('finds the Android tablet behind Chrome’s desktop-site User-Agent from ?0 on platform Android', () => {
    expect(deviceOf(new Headers({ 'user-agent': ANDROID_TABLET_DESKTOP_SITE, 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Android"' }))).toBe('tablet')
  })

  it('finds the iPad behind a Mac User-Agent from ?0 on platform iOS', () => {
    expect(deviceOf(new Headers({ 'user-agent': MAC_SAFARI, 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"iOS"' }))).toBe('tablet')
  })

  it('keeps a desktop with ?0 on platform Windows a desktop', () => {
    expect(deviceOf(new Headers({ 'user-agent': WINDOWS_CHROME, 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Windows"' }))).toBe('desktop')
  })

  it('lets the User-Agent decide when ?0 comes on a platform other than Android or iOS', () => {
    const silkDesktopMode = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Silk/44.1.54 like Chrome/44.0.2403.63 Safari/537.36'
    expect(deviceOf(new Headers({ 'user-agent': silkDesktopMode, 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Linux"' }))).toBe('tablet')
  })

  it('takes Sec-CH-UA-Form-Factors "Tablet" over a desktop-looking User-Agent and ?0', () => {
    const headers = new Headers({ 'user-agent': ANDROID_TABLET_DESKTOP_SITE, 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Linux"', 'sec-ch-ua-form-factors': '"Tablet"' })
    expect(deviceOf(headers)).toBe('tablet')
  })

  it('takes Sec-CH-UA-Form-Factors "Mobile" as a phone in desktop-site mode', () => {
    const headers = new Headers({ 'user-agent': ANDROID_TABLET_DESKTOP_SITE, 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Android"', 'sec-ch-ua-form-factors': '"Mobile"' })
    expect(deviceOf(headers)).toBe('mobile')
  })

  it('takes Sec-CH-UA-Form-Factors "Desktop" as a desktop', () => {
    expect(deviceOf(new Headers({ 'user-agent': WINDOWS_CHROME, 'sec-ch-ua-form-factors': '"Desktop"' }))).toBe('desktop')
  })

  it('counts a convertible that lists both Desktop and Tablet as a desktop', () => {
    expect(deviceOf(new Headers({ 'user-agent': WINDOWS_CHROME, 'sec-ch-ua-form-factors': '"Desktop", "Tablet"' }))).toBe('desktop')
  })

  it('passes over form factors outside the three classes (XR) to the other hints', () => {
    expect(deviceOf(new Headers({ 'user-agent': ANDROID_PHONE, 'sec-ch-ua-mobile': '?1', 'sec-ch-ua-form-factors': '"XR"' }))).toBe('mobile')
  })

  it('reads a hint header whatever its spacing or the case of its value', () => {
    expect(deviceOf(new Headers({ 'sec-ch-ua-mobile': ' ?0 ', 'sec-ch-ua-platform': ' "android" ' }))).toBe('tablet')
  })

  it('falls back to the User-Agent when the hints are malformed', () => {
    expect(deviceOf(new Headers({ 'user-agent': ANDROID_PHONE, 'sec-ch-ua-mobile': 'yes', 'sec-ch-ua-form-factors': '' }))).toBe('mobile')
  })
})
