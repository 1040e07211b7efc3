import { MongoClient as MongoClientV6 } from 'mongodb-v6';
import type { MongoClient } from 'mongodb';
import { MongoStore } from '@agent-sessions/mongodb';
import { mongoServer, runMongoConformance } from './helpers.js';

// The lock-free path (compare-and-set commits with helping) that real MongoDB takes, through an
// injected client of the driver's previous major (6.x). FerretDB 1.x rewrites documents in
// separate steps, so a conditional update is atomic there only when nothing else runs at the
// same time: one connection (maxPoolSize 1) gives exactly that, one command at a time, while
// the store's multi-step appends, pops and commits still interleave freely between commands.
const { url, server } = mongoServer();
const client = new MongoClientV6(url, { maxPoolSize: 1, serverSelectionTimeoutMS: 5000 }) as unknown as MongoClient;

runMongoConformance(`mongodb (driver 6, injected client, compare-and-set path) on ${server}`, 'cas', client, (database) => new MongoStore({ client, database, atomicUpdates: true }));
