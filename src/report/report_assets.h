// The report's inline style sheet and script. Internal. Both are constants:
// nothing from the tree ever goes into them, and the page's
// Content-Security-Policy allows exactly these two (by their SHA-256).
#pragma once

namespace mlruns::detail {

inline constexpr const char kReportCss[] = R"css(
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#ffffff;--panel:#f9fafb;--accent:#d62728;
--ok:#15803d;--bad:#b91c1c;--run:#1d4ed8;--warn:#b45309}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Helvetica,Arial,sans-serif}
main{max-width:1280px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:22px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:16px;margin:32px 0 10px;font-weight:650;border-bottom:1px solid var(--line);padding-bottom:6px}
h3{font-size:14px;margin:0;font-weight:600}
p{margin:6px 0}
code,.mono{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
.sub{color:var(--muted)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:12px 0 0;font-size:13px}
.meta dt{color:var(--muted)}
.meta dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;line-height:18px;background:#eef2f7;color:#374151;white-space:nowrap}
.s-FINISHED{background:#dcfce7;color:var(--ok)}
.s-FAILED{background:#fee2e2;color:var(--bad)}
.s-KILLED{background:#ffedd5;color:var(--warn)}
.s-RUNNING,.s-SCHEDULED{background:#dbeafe;color:var(--run)}
.note{color:var(--muted);font-size:12.5px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:baseline;background:#8c99a6}
.tablewrap{overflow:auto;max-height:70vh;border:1px solid var(--line);border-radius:6px}
table.runs{border-collapse:separate;border-spacing:0;width:100%;font-size:13px}
table.runs th,table.runs td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;max-width:22em;overflow:hidden;text-overflow:ellipsis}
table.runs th{position:sticky;top:0;background:var(--panel);font-weight:600;z-index:1;user-select:none}
table.runs th.num,table.runs td.num{text-align:right;font-variant-numeric:tabular-nums}
table.runs th .grp{display:block;font-weight:400;color:var(--muted);font-size:11px}
table.runs tr.best td{background:#fff1f2}
table.runs tr.group td{background:var(--panel);color:var(--muted);font-size:12px;padding-top:8px}
table.runs tr.child td.name{padding-left:26px}
table.runs tbody tr:hover td,table.runs tr.hl td{background:#eff6ff}
html.js table.runs th{cursor:pointer}
html.js table.runs th[aria-sort=ascending]::after{content:" \25B2";font-size:10px}
html.js table.runs th[aria-sort=descending]::after{content:" \25BC";font-size:10px}
html.sorted table.runs tr.group{display:none}
html.sorted table.runs tr.child td.name{padding-left:10px}
td.na{color:#c0c4cc}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:18px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px 12px 6px}
figure.chart figcaption{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
figure.chart figcaption .note{flex:1}
figure.chart svg.lin,figure.chart svg.log{display:block;width:100%;height:auto}
.swatch-svg{display:inline-block;vertical-align:-1px;margin-right:2px}
.scale{font-size:12px;color:var(--muted);cursor:pointer;white-space:nowrap}
input.logtoggle{position:absolute;opacity:0;pointer-events:none}
input.logtoggle:checked~svg.lin,input.logtoggle:not(:checked)~svg.log{display:none}
input.logtoggle:focus-visible~figcaption .scale{outline:2px solid #93c5fd}
.scale .on{display:none}
input.logtoggle:checked~figcaption .scale .on{display:inline}
input.logtoggle:checked~figcaption .scale .off{display:none}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Helvetica,Arial,sans-serif}
svg path[data-run]{pointer-events:stroke}
svg path[data-run]:hover,svg path[data-run].hl{stroke-width:3.5;stroke-opacity:1}
svg g.muted path:hover,svg g.muted path.hl{stroke:#1d4ed8}
svg.dim path[data-run]:not(.hl){stroke-opacity:.12}
#tip{position:fixed;pointer-events:none;background:#111827;color:#fff;font-size:12px;padding:3px 7px;border-radius:4px;white-space:nowrap;max-width:40em;overflow:hidden;text-overflow:ellipsis;z-index:10;display:none}
.legend{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px;margin:4px 0 2px;padding:0;list-style:none}
.legend li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:26em}
.card{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:6px;padding:12px 16px;background:var(--bg)}
.card .why{background:var(--panel);border-radius:4px;padding:8px 10px;margin:8px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:16px;margin-top:8px}
table.kv{border-collapse:collapse;font-size:12.5px;width:100%}
table.kv td{padding:2px 8px 2px 0;vertical-align:top;overflow-wrap:anywhere}
table.kv td:first-child{color:var(--muted);white-space:nowrap}
ul.files{margin:4px 0;padding-left:18px;font-size:12.5px}
ul.files li{overflow-wrap:anywhere}
.pc svg{display:block;width:100%;height:auto}
.pc path{fill:none}
.pc path.run{stroke-width:1.2;stroke-opacity:.75}
.pc path.run.best{stroke-width:3;stroke-opacity:1}
footer{margin-top:40px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
@media print{.tablewrap{max-height:none;overflow:visible}.scale{display:none}}
)css";

// Sorting (click a header; the "#" column restores the grouped order) and
// highlighting a run across the table and every chart. The page reads
// fine without it; it marks <html> with class "js" when it has run, and
// data-js="ok" (or "error: ..." if anything threw), which the browser test
// checks.
inline constexpr const char kReportJs[] = R"js(
(function(){
"use strict";
var root=document.documentElement;
window.addEventListener("error",function(e){root.setAttribute("data-js","error: "+e.message);});
root.classList.add("js");
var table=document.querySelector("table.runs");
if(table){
  var tbody=table.tBodies[0];
  var heads=table.tHead.rows[table.tHead.rows.length-1].cells;
  var original=Array.prototype.slice.call(tbody.rows);
  var key=function(row,col){
    var c=row.cells[col];
    if(!c)return null;
    var v=c.getAttribute("data-v");
    if(v===null)v=c.textContent;
    return v;
  };
  var cmp=function(a,b,num){
    if(a===""||a===null)return(b===""||b===null)?0:1;
    if(b===""||b===null)return -1;
    if(num){
      var x=parseFloat(a),y=parseFloat(b);
      var xn=isNaN(x),yn=isNaN(y);
      if(xn||yn)return xn===yn?0:(xn?1:-1);
      return x<y?-1:x>y?1:0;
    }
    return a.localeCompare(b);
  };
  Array.prototype.forEach.call(heads,function(th,col){
    th.setAttribute("tabindex","0");
    var sort=function(){
      var dir=th.getAttribute("aria-sort")==="ascending"?"descending":"ascending";
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute("aria-sort");});
      if(col===0){
        root.classList.remove("sorted");
        original.forEach(function(r){tbody.appendChild(r);});
        return;
      }
      th.setAttribute("aria-sort",dir);
      root.classList.add("sorted");
      var num=th.classList.contains("num");
      var rows=original.filter(function(r){return !r.classList.contains("group");});
      rows.sort(function(a,b){
        var c=cmp(key(a,col),key(b,col),num);
        if(c===0)return original.indexOf(a)-original.indexOf(b);
        var blank=key(a,col)===""||key(b,col)===""||key(a,col)===null||key(b,col)===null;
        return dir==="ascending"||blank?c:-c;
      });
      rows.forEach(function(r){tbody.appendChild(r);});
    };
    th.addEventListener("click",sort);
    th.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){e.preventDefault();sort();}});
  });
}
var lit=null;
var light=function(id){
  if(lit===id)return;
  lit=id;
  document.querySelectorAll(".hl").forEach(function(e){e.classList.remove("hl");});
  document.querySelectorAll("svg.dim").forEach(function(e){e.classList.remove("dim");});
  if(!id)return;
  document.querySelectorAll('[data-run="'+id+'"]').forEach(function(e){
    e.classList.add("hl");
    var svg=e.closest("svg");
    if(svg)svg.classList.add("dim");
  });
};
var tip=document.createElement("div");
tip.id="tip";
document.body.appendChild(tip);
document.addEventListener("mouseover",function(e){
  var t=e.target.closest?e.target.closest("[data-run]"):null;
  var id=t&&/^[0-9a-f]{1,64}$/i.test(t.getAttribute("data-run"))?t.getAttribute("data-run"):null;
  light(id);
  // a line without its own <title> (the grey ones): name its run
  if(id&&t.tagName.toLowerCase()==="path"&&!t.querySelector("title")){
    var cell=document.querySelector('tr[data-run="'+id+'"] td.name');
    tip.textContent=cell?cell.getAttribute("data-v"):id;
    tip.style.display="block";
  }else{
    tip.style.display="none";
  }
});
document.addEventListener("mousemove",function(e){
  if(tip.style.display==="block"){tip.style.left=(e.clientX+12)+"px";tip.style.top=(e.clientY+12)+"px";}
});
root.setAttribute("data-js",root.getAttribute("data-js")||"ok");
})();
)js";

}  // namespace mlruns::detail
