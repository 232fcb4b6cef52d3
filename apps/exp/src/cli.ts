import { segment } from "@sentencelab/segment"; console.log("cli ok", typeof segment, process.argv.slice(2));
