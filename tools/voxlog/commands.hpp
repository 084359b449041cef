// The `voxlog` subcommands. Each lives in its own <name>_command.cpp and is registered in main.cpp's
// table; to add one, declare it here, write the file, and add one row to the table.
//
// Contract: a command returns a process exit code (args.hpp: kExitOk, kExitFailed, kExitUsage) and
// writes its result on stdout, its errors on stderr. Commands that only read open the store read-only:
// they never create or change anything and may run while voxlogd is writing.
#pragma once

#include "tools/voxlog/args.hpp"

namespace voxlog::cli {

int events_command(const Args& args);   // the log as JSON lines, with filters
int verify_command(const Args& args);   // checks the log's invariants (eventstore/FORMAT.md)
int stats_command(const Args& args);    // counts and sizes
int flow_command(const Args& args);     // checks flow.json; deploys it through the Studio API
int replay_command(const Args& args);   // rebuilds the projections from the log (--check compares)
int migrate_command(const Args& args);  // copies the log to an empty log, LMDB <-> PostgreSQL

}  // namespace voxlog::cli
