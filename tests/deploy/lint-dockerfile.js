// Lints the Dockerfile with dockerfile-utils (the linter of the Docker language server;
// no Docker engine needed), warnings included, then checks the shape Prima's image relies
// on: a Debian 12 build stage using scripts/install-deps, a Debian 12 runtime stage that
// installs only named packages without recommends, ships the five programs, and runs as a
// numeric non-root user.
//
//   node lint-dockerfile.js Dockerfile
"use strict";

const fs = require("fs");
const { validate } = require("dockerfile-utils");

const file = process.argv[2];
if (!file) {
  console.error("usage: node lint-dockerfile.js Dockerfile");
  process.exit(2);
}
const text = fs.readFileSync(file, "utf8");
const problems = [];

for (const diagnostic of validate(text, { deprecatedMaintainer: 1, emptyContinuationLine: 1 })) {
  problems.push(`line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
}

// Instructions with their continuation lines joined, comments dropped.
const instructions = text
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"))
  .map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
  });
const stages = [];
for (const instruction of instructions) {
  if (instruction.keyword === "FROM") stages.push({ from: instruction.args, body: [] });
  else if (stages.length) stages[stages.length - 1].body.push(instruction);
}

if (stages.length < 2) problems.push("needs a build stage and a runtime stage");
for (const stage of stages) {
  if (!/^debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?\b/.test(stage.from)) {
    problems.push(`FROM ${stage.from}: stages must build on Debian 12 (debian:bookworm)`);
  }
}
const build = stages[0];
const runtime = stages[stages.length - 1];
if (build && !build.body.some((i) => i.keyword === "RUN" && i.args.includes("scripts/install-deps"))) {
  problems.push("the build stage must install its packages with scripts/install-deps");
}
if (runtime) {
  const runs = runtime.body.filter((i) => i.keyword === "RUN").map((i) => i.args);
  const installs = runs.filter((r) => /apt-get install/.test(r));
  if (installs.length === 0) problems.push("the runtime stage installs no runtime libraries");
  for (const install of installs) {
    if (!install.includes("--no-install-recommends")) {
      problems.push("the runtime stage's apt-get install needs --no-install-recommends");
    }
    if (!install.includes("rm -rf /var/lib/apt/lists")) {
      problems.push("the runtime stage should drop the apt lists in the same RUN");
    }
    if (/-dev\b/.test(install)) problems.push("the runtime stage installs a -dev package");
  }
  const users = runtime.body.filter((i) => i.keyword === "USER");
  const user = users.length ? users[users.length - 1].args : "";
  if (!/^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(user)) {
    problems.push(`the runtime stage must end as a numeric non-root USER, found "${user}"`);
  }
  const copied = runtime.body
    .filter((i) => i.keyword === "COPY" && i.args.includes("--from="))
    .map((i) => i.args)
    .join(" ");
  for (const program of ["catalog", "queue", "complaint", "satisfaction", "prima"]) {
    if (!new RegExp(`/bin/${program}(\\s|$)`).test(copied)) {
      problems.push(`the runtime stage does not copy ${program} from the build stage`);
    }
  }
  if (runtime.body.some((i) => i.keyword === "ENTRYPOINT" && /\bsh\b|\.sh\b/.test(i.args))) {
    problems.push("the image needs no shell entrypoint: the command names the program");
  }
}

for (const line of problems) console.error(`${file}: ${line}`);
console.log(`${file}: ${stages.length} stages, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
