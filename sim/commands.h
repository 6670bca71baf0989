/* commands.h — the simulator's subcommands; each returns a process exit code
 * (0 success, 1 run failure, 2 usage error). argv[0] is the command name. */
#ifndef SIM_COMMANDS_H
#define SIM_COMMANDS_H

int sim_cmd_pastry(int argc, char **argv);
int sim_cmd_forest(int argc, char **argv);
int sim_cmd_stream(int argc, char **argv);
int sim_cmd_faults(int argc, char **argv);
int sim_cmd_directory(int argc, char **argv);

#endif
