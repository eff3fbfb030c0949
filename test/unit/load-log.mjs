// `node --import ./load-log.mjs PROGRAM`: appends the URL of every module PROGRAM loads to the file named by
// $LVSRUN_LOAD_LOG, one per line (the hooks run on their own thread, so they get the path as data).
import { register } from 'node:module';

register('./load-log-hooks.mjs', import.meta.url, { data: { log: process.env.LVSRUN_LOAD_LOG } });
