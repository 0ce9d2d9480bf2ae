// basic-ftp (Node.js) against ftpsd, driven by tests/integration/test_node.py.
//   node basicftp.js MODE HOST PORT USER PASSWORD CAFILE TLSMAX SRC
// MODE: explicit (AUTH TLS) or implicit; TLSMAX: TLSv1.3 or TLSv1.2.
// Uploads SRC as n.bin, lists, sizes, downloads it back to SRC.back,
// renames, makes and removes a folder, deletes; prints "ok", or the
// failing step and its error, exit 1.
"use strict";

const fs = require("fs");
const ftp = require("basic-ftp");

async function main() {
	const [mode, host, port, user, password, cafile, tlsmax, src] =
	    process.argv.slice(2);
	const client = new ftp.Client(30000);
	let step = "connect";

	client.ftp.verbose = process.env.BASICFTP_VERBOSE === "1";
	try {
		await client.access({
			host: host,
			port: Number(port),
			user: user,
			password: password,
			secure: mode === "implicit" ? "implicit" : true,
			secureOptions: {
				ca: fs.readFileSync(cafile),
				servername: "localhost",
				minVersion: "TLSv1.2",
				maxVersion: tlsmax,
			},
		});
		step = "upload";
		await client.uploadFrom(src, "n.bin");
		step = "list";
		const names = (await client.list()).map((f) => f.name);
		if (!names.includes("n.bin"))
			throw new Error("n.bin not listed: " + names.join(","));
		step = "size";
		const size = await client.size("n.bin");
		if (size !== fs.statSync(src).size)
			throw new Error("SIZE " + size);
		step = "lastMod";
		const mod = await client.lastMod("n.bin");
		if (!(mod instanceof Date) || isNaN(mod.getTime()))
			throw new Error("MDTM " + mod);
		step = "download";
		await client.downloadTo(src + ".back", "n.bin");
		step = "rename";
		await client.rename("n.bin", "m.bin");
		step = "ensureDir";
		await client.ensureDir("sub/deeper");
		await client.cd("/");
		step = "removeDir";
		await client.removeDir("sub");
		step = "remove";
		await client.remove("m.bin");
		step = "list after";
		const left = (await client.list()).map((f) => f.name);
		if (left.includes("m.bin") || left.includes("sub"))
			throw new Error("left over: " + left.join(","));
		console.log("ok");
	} catch (e) {
		console.log(step + " failed: " + e.message);
		process.exitCode = 1;
	} finally {
		client.close();
	}
}

main();
