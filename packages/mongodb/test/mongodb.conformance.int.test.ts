import { MongoClient } from 'mongodb';
import { MongoStore } from '@agent-sessions/mongodb';
import { mongoServer, runMongoConformance } from './helpers.js';

const { url, server } = mongoServer();

// Every instance opens its own client, as separate processes would.
runMongoConformance(`mongodb on ${server}`, 'conf', new MongoClient(url), (database) => MongoStore.fromConnectionString(url, { database }));
