// Each service client registers itself here; importing this module makes them all available.
import "./blobs.js";
import "./cache.js";
import "./sessions.js";
import "./tables.js";
import "./queues.js";
import "./workflows.js";
