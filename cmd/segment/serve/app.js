"use strict";
// The page of segment serve: uploads an image (or picks one of the data set), then draws
// the predicted classes over it on a canvas, with an opacity slider and a switch per class.
(() => {
const $ = id => document.getElementById(id);
let info = null;      // /api/info
let current = null;   // the shown prediction: {res, picture, classes (ImageData)}

function showError(msg) {
	const e = $("error");
	e.textContent = msg;
	e.hidden = !msg;
}

async function load() {
	const r = await fetch("/api/info");
	info = await r.json();
	$("model").textContent = "model: " + info.model + " — " + info.classes.map(c => c.name + " (" + c.value + ")").join(", ");
	$("limits").textContent = "Images up to " + Math.round(info.max_bytes / 1048576) + " MiB and " +
		info.max_pixels.toLocaleString("en") + " pixels, " + (info.channels === 1 ? "gray" : "colour") + ".";
	const toggles = $("toggles");
	for (const c of info.classes) {
		const l = document.createElement("label");
		const box = document.createElement("input");
		box.type = "checkbox";
		box.checked = c.drawn;
		box.id = "class-" + c.index;
		box.addEventListener("change", draw);
		const sw = document.createElement("span");
		sw.className = "swatch";
		sw.style.background = c.colour;
		l.append(box, sw, c.name);
		toggles.append(l);
	}
	showData();
	showReports();
}

function showData() {
	if (!info.data.length) return;
	$("data").hidden = false;
	$("scoring").textContent = info.scoring;
	const fg = info.classes.length === 2 ? [1] : info.classes.map(c => c.index).filter(i => i > 0);
	$("dice-head").textContent = "Dice (" + fg.map(i => info.classes[i].name).join(", ") + ")";
	const rows = $("data-rows");
	rows.textContent = "";
	for (const d of info.data) {
		const tr = document.createElement("tr");
		const name = document.createElement("td");
		name.textContent = d.name;
		const dice = document.createElement("td");
		dice.className = "num";
		dice.textContent = d.dice ? fg.map(i => d.dice[i] < 0 ? "–" : d.dice[i].toFixed(4)).join(", ") : "";
		const act = document.createElement("td");
		const b = document.createElement("button");
		b.textContent = "predict";
		b.addEventListener("click", () => predict("/api/data/" + encodeURIComponent(d.name), null));
		act.append(b);
		tr.append(name, dice, act);
		rows.append(tr);
	}
	if (info.scoring && !info.scoring.startsWith("no masks") && !info.scoring.startsWith("scoring failed")) {
		setTimeout(async () => { info = await (await fetch("/api/info")).json(); showData(); showReports(); }, 2000);
	}
}

function showReports() {
	const list = $("report-list");
	list.textContent = "";
	$("reports").hidden = !info.reports.length;
	for (const name of info.reports) {
		const li = document.createElement("li");
		const a = document.createElement("a");
		a.href = "/reports/" + encodeURIComponent(name) + "/";
		a.textContent = name;
		li.append(a);
		list.append(li);
	}
}

function loadImage(src) {
	return new Promise((ok, fail) => {
		const img = new Image();
		img.onload = () => ok(img);
		img.onerror = () => fail(new Error("cannot load " + src));
		img.src = src;
	});
}

// predict posts body to url (an upload, or a data set image with no body) and shows the
// result, or the server's message.
async function predict(url, body) {
	showError("");
	$("busy").hidden = false;
	try {
		const r = await fetch(url, {method: "POST", body});
		let res;
		try { res = await r.json(); } catch { res = {error: "the server answered HTTP " + r.status}; }
		if (!r.ok) {
			showError(res.error || ("HTTP " + r.status));
			return;
		}
		const [picture, classes] = await Promise.all([loadImage(res.image), loadImage(res.classes)]);
		const c = document.createElement("canvas");
		c.width = res.width;
		c.height = res.height;
		const cx = c.getContext("2d");
		cx.drawImage(classes, 0, 0);
		current = {res, picture, classes: cx.getImageData(0, 0, res.width, res.height)};
		$("title").textContent = res.name + " (" + res.width + "×" + res.height + ")";
		const dl = $("download");
		dl.href = res.mask + "?download=" + encodeURIComponent(res.download);
		dl.download = res.download;
		$("viewer").hidden = false;
		draw();
	} catch (e) {
		showError(String(e.message || e));
	} finally {
		$("busy").hidden = true;
	}
}

function rgb(hex) {
	return [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
}

// draw paints the picture and, over it, the classes switched on at the chosen opacity.
function draw() {
	if (!current) return;
	const {res, picture, classes} = current;
	for (const id of ["picture", "overlay"]) {
		$(id).width = res.width;
		$(id).height = res.height;
	}
	$("picture").getContext("2d").drawImage(picture, 0, 0);
	const alpha = Math.round(255 * $("opacity").value / 100);
	const on = info.classes.map(c => $("class-" + c.index).checked);
	const colours = info.classes.map(c => rgb(c.colour));
	const out = new ImageData(res.width, res.height);
	const src = classes.data, dst = out.data;
	for (let i = 0; i < src.length; i += 4) {
		const k = src[i];
		if (k < on.length && on[k]) {
			const c = colours[k];
			dst[i] = c[0]; dst[i + 1] = c[1]; dst[i + 2] = c[2]; dst[i + 3] = alpha;
		}
	}
	$("overlay").getContext("2d").putImageData(out, 0, 0);
}

function upload(file) {
	if (!file) return;
	predict("/api/predict?name=" + encodeURIComponent(file.name), file);
}

$("file").addEventListener("change", e => { upload(e.target.files[0]); e.target.value = ""; });
$("opacity").addEventListener("input", draw);
const drop = $("drop");
drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files[0]); });
load().catch(e => showError("cannot reach the server: " + e.message));
})();
