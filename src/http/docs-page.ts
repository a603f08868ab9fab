/**
 * A documentation page that needs nothing from the network: the OpenAPI document rendered by a
 * few lines of inline script, so it works on an offline or air-gapped host.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flightgate token service</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ddd}.op{margin:1rem 0;padding:.5rem 1rem;border-left:4px solid #36c;background:#f6f8fb}
.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}code{background:#eee;padding:0 .2rem}table{border-collapse:collapse}td{padding:.1rem .6rem;vertical-align:top}
</style></head><body><h1 id="title">flightgate token service</h1><p id="desc"></p><div id="ops"></div>
<p><a href="/openapi.json">openapi.json</a></p>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
  document.getElementById('title').textContent=doc.info.title;
  document.getElementById('desc').textContent=doc.info.description;
  let html='';
  for(const [path,ops] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(ops)){
      html+='<div class="op"><span class="m">'+esc(method)+'</span><code>'+esc(path)+'</code><div>'+esc(op.summary||'')+'</div>';
      const body=op.requestBody&&op.requestBody.content['application/x-www-form-urlencoded'];
      if(body){html+='<table>';for(const [n,p] of Object.entries(body.schema.properties)){html+='<tr><td><code>'+esc(n)+'</code>'+(body.schema.required.includes(n)?' (required)':'')+'</td><td>'+esc(p.description)+'</td></tr>';}html+='</table>';}
      html+='<div>responses: '+Object.keys(op.responses).map(esc).join(', ')+'</div></div>';
    }
  }
  document.getElementById('ops').innerHTML=html;
});
</script></body></html>`;
