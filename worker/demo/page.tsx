/**
 * /demo: a small record store with Segue's script tag, where a person can pick a birth date, visit as
 * that person, and watch the rock / jazz decision change; or sign in as one of the store's customers,
 * which the page does as a site's server would: it signs the customer's email with the site's identity
 * secret. `?consent=required` shows the same page with a consent banner and `data-consent="required"` on
 * the script tag; `?debug` adds `data-debug`.
 */
import { Hono } from 'hono'
import { raw } from 'hono/html'
import demo from '../../scripts/demo-data.json'
import { type AppEnv } from '../app-env'
import { getSite } from '../data/sites'
import { signIdentity } from '../visits/identity'

export const DEMO_SITE_ID = 'demo'

const ALBUMS = [
  { slug: 'neon-static', title: 'Neon Static', artist: 'The Late Arrivals', genre: 'Rock' },
  { slug: 'blue-hours', title: 'Blue Hours', artist: 'Marta Ruiz Quartet', genre: 'Jazz' },
  { slug: 'paper-lanterns', title: 'Paper Lanterns', artist: 'Odd Weather', genre: 'Indie' },
]

const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d1d1f;background:#faf7f2}
header{display:flex;flex-wrap:wrap;gap:16px;align-items:center;justify-content:space-between;padding:16px 24px;background:#1d1d1f;color:#fff}
header a{color:#fff}.logo{font-weight:700;font-size:20px;text-decoration:none}nav{display:flex;gap:16px;flex-wrap:wrap}
.layout{display:grid;grid-template-columns:1fr 320px;gap:24px;max-width:1100px;margin:0 auto;padding:24px}
@media (max-width:800px){.layout{grid-template-columns:1fr}}
.albums{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:16px;padding:0;list-style:none}
.album{background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 4px #0002}
.cover{aspect-ratio:1;border-radius:8px;margin-bottom:8px;display:grid;place-items:center;color:#fff;font-weight:700}
.Rock{background:linear-gradient(135deg,#e63946,#1d1d1f)}.Jazz{background:linear-gradient(135deg,#1d3557,#457b9d)}.Indie{background:linear-gradient(135deg,#2a9d8f,#e9c46a)}
aside{background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 4px #0002;align-self:start}
label{display:block;font-weight:600;margin-bottom:4px}input{font:inherit;padding:8px;width:100%;margin-bottom:8px}
button{font:inherit;padding:8px 14px;border-radius:8px;border:1px solid #1d1d1f;background:#1d1d1f;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d1d1f}:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.customers{list-style:none;padding:0;display:grid;gap:8px}.customers span{color:#555;font-size:14px}
#consent{position:fixed;left:16px;right:16px;bottom:16px;background:#fff;border:1px solid #ccc;border-radius:12px;padding:16px;display:flex;gap:12px;align-items:center;flex-wrap:wrap;box-shadow:0 4px 16px #0003}
`

/** The store's customers a visitor can sign in as. */
const CUSTOMERS = demo.contacts.map((c) => ({ email: c.email, name: `${c.fields.firstName} ${c.fields.lastName}`, born: c.fields.birthDate }))

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c')

/**
 * Runs before the SDK arrives: the queue stub, and the identify of the visitor the demo plays. A signed-in
 * customer is identified with the signature the server made for their email moments ago; a real site
 * signs only the customer who is signed in.
 */
const headScript = (siteKey: string, signatures: Record<string, string>) => `
window.segue=window.segue||function(){(segue.q=segue.q||[]).push(arguments)};
var DEMO_KEY=${scriptJson(siteKey)},SIGNED=${scriptJson(signatures)};
try{var user=localStorage.getItem('demo-user'),born=localStorage.getItem('demo-born');
if(user&&SIGNED[user])segue('identify',{email:user,signature:SIGNED[user]});else if(born)segue('identify',{fields:{birthDate:born}})}catch(e){}
`

const bodyScript = `
(function(){
  var $=function(id){return document.getElementById(id)};
  function forget(){try{localStorage.removeItem('segue_c_'+DEMO_KEY);localStorage.removeItem('segue_s_'+DEMO_KEY)}catch(e){}}
  function get(k){try{return localStorage.getItem(k)}catch(e){return null}}
  function put(k,v){try{if(v)localStorage.setItem(k,v);else localStorage.removeItem(k)}catch(e){}}
  var born=get('demo-born'),user=get('demo-user'),who=user&&document.querySelector('[data-customer="'+user+'"]');
  $('who').textContent=who?'You are signed in as '+who.getAttribute('data-name')+'.':born?'You are visiting as someone born on '+born+'.':'You are visiting as someone whose birth date Segue does not know.';
  if(born)$('born').value=born;
  $('visitor').addEventListener('submit',function(e){e.preventDefault();var v=$('born').value;if(!v)return;put('demo-born',v);put('demo-user',null);forget();location.reload()});
  document.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('button[data-customer]');if(b){put('demo-user',b.getAttribute('data-customer'));put('demo-born',null);forget();location.reload()}});
  $('reset').addEventListener('click',function(){put('demo-born',null);put('demo-user',null);forget();location.reload()});
  function show(slug){var a=document.querySelector('[data-album="'+slug+'"]');$('page-title').textContent=a?a.getAttribute('data-title'):'Albums of the week';document.title=($('page-title').textContent)+' · Vinyl Corner'}
  document.addEventListener('click',function(e){
    var link=e.target.closest&&e.target.closest('a[data-album]');
    if(link){e.preventDefault();history.pushState({},'',link.getAttribute('href'));show(link.getAttribute('data-album'))}
    var buy=e.target.closest&&e.target.closest('button[data-buy]');
    if(buy){segue('track','purchase',{orderId:'demo-'+Date.now(),amount:19.9,currency:'EUR'});buy.textContent='Thank you!'}
  });
  addEventListener('popstate',function(){show(location.pathname.split('/').pop())});
  var accept=$('accept');if(accept)accept.addEventListener('click',function(){segue('consent',true);$('consent').remove()});
})();
`

function Page(props: { origin: string; siteKey: string; signatures: Record<string, string>; consent: boolean; debug: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Vinyl Corner · Segue demo</title>
        <style>{raw(CSS)}</style>
        <script>{raw(headScript(props.siteKey, props.signatures))}</script>
        <script async src={`${props.origin}/sdk.js`} data-site={props.siteKey} data-consent={props.consent ? 'required' : undefined} data-debug={props.debug ? '' : undefined} />
      </head>
      <body>
        <header>
          <a class="logo" href="/demo">Vinyl Corner</a>
          <nav aria-label="Albums">
            {ALBUMS.map((a) => (
              <a href={`/demo/albums/${a.slug}`} data-album={a.slug} data-title={a.title}>{a.title}</a>
            ))}
          </nav>
        </header>
        <div class="layout">
          <main>
            <h1 id="page-title">Albums of the week</h1>
            <ul class="albums">
              {ALBUMS.map((a) => (
                <li class="album">
                  <div class={`cover ${a.genre}`} aria-hidden="true">{a.genre}</div>
                  <strong>{a.title}</strong>
                  <div>{a.artist}</div>
                  <button type="button" data-buy={a.slug}>Buy · €19.90</button>
                </li>
              ))}
            </ul>
          </main>
          <aside>
            <h2>Play a visitor</h2>
            <p id="who" />
            <form id="visitor">
              <label for="born">Born on</label>
              <input id="born" type="date" required min="1900-01-01" max="2020-12-31" />
              <button type="submit">Visit as this person</button>
            </form>
            <p>
              Segue's "Album of the week" workflow shows the rock album to Millennials (born 1981–1996) and the jazz
              album to everyone else, at most once a day. Visiting as someone new starts a new contact. Open an
              album and the "Newsletter" workflow offers a sign-up form to a visitor the store has no email for.
            </p>
            <h2>Or sign in as a customer</h2>
            <p>
              The store's server signs the customer's email with the site's identity secret, so Segue knows it is them
              and not someone typing their email.
            </p>
            <ul class="customers">
              {CUSTOMERS.map((c) => (
                <li>
                  <button type="button" class="secondary" data-customer={c.email} data-name={c.name}>{c.name}</button> <span>born {c.born}</span>
                </li>
              ))}
            </ul>
            <button id="reset" type="button" class="secondary">Start over as a new visitor</button>
            <section id="newsletter" aria-label="Newsletter" />
          </aside>
        </div>
        {props.consent && (
          <div id="consent" role="region" aria-label="Consent">
            <span>This demo measures visits with Segue only if you agree.</span>
            <button id="accept" type="button">Accept</button>
          </div>
        )}
        <script>{raw(bodyScript)}</script>
      </body>
    </html>
  )
}

/** `/demo` and its album pages (one page, navigated as a single-page app). */
export const demoRoutes = new Hono<AppEnv>().get('/demo/*', async (c) => {
  const site = await getSite(c.env.DB, DEMO_SITE_ID)
  if (!site) return c.text('The demo site is not seeded: run `npm run dev`.', 404)
  const now = Date.now()
  const signed = await Promise.all(CUSTOMERS.map(async (cu) => [cu.email, await signIdentity(site.identitySecret, { kind: 'email', value: cu.email }, now)] as const))
  const page = (
    <Page
      origin={new URL(c.req.url).origin}
      siteKey={site.key}
      signatures={Object.fromEntries(signed)}
      consent={c.req.query('consent') === 'required'}
      debug={c.req.query('debug') !== undefined}
    />
  )
  return c.html(`<!doctype html>${page}`)
})
