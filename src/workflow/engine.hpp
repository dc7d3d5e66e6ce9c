#pragma once
// The workflow engine (流程引擎): pure. State + event -> new state + effects, nothing else: no
// store, no clock, no I/O; the service persists the state, turns effects into rows, timers and
// webhooks, and tests drive it directly with randomized event sequences.
//
// A running instance is a set of tokens, each at a node: at a task, approval or external node it
// holds open tasks; at a timer node it waits for its due time. Automatic nodes (start, condition,
// parallel, join) are passed through within the event that reaches them. An event either
// applies whole or throws an Error and changes nothing, so no sequence of events leaves a token
// without a task, a task without an assignee, or an instance that ends anywhere but an end node.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "workflow/definition.hpp"

namespace kefu::workflow {

// Who holds a task: a person, an organisation unit's queue (members claim it), or an outside
// system (the enterprise OA).
struct Assignee {
  int64_t staff_id = 0;
  int64_t group_id = 0;
  std::string system;
  bool empty() const { return !staff_id && !group_id && system.empty(); }
  bool operator==(const Assignee&) const = default;
};

enum class TaskKind { task, approval, opinion, external };
enum class TaskStatus { open, started, done, cancelled };
const char* to_string(TaskKind k);
const char* to_string(TaskStatus s);

struct Task {
  int id = 0;
  int token = 0;
  std::string node;
  TaskKind kind = TaskKind::task;
  TaskStatus status = TaskStatus::open;
  Assignee assignee;
  std::string outcome;  // approve/reject, an opinion's answer, a task's chosen outcome
  int64_t done_by = 0;
  int opened_by = 0;  // the task whose completion opened this one (撤回)
  int parent = 0;     // an opinion: the task that asked for it (征求意见)
  bool withdrawable = false;
  bool live() const { return status == TaskStatus::open || status == TaskStatus::started; }
};

struct Token {
  int id = 0;
  std::string node;
  std::vector<std::string> path;  // nodes this token passed since the start or its split (退回)
  int64_t due_at = 0;             // at a timer node
};

struct Instance {
  std::string status;  // "" before start, running, suspended, ended
  std::vector<Token> tokens;
  std::vector<Task> tasks;
  std::map<std::string, int> arrivals;  // join -> branches arrived
  int next_task = 1, next_token = 1;
  std::string end_node;
  int64_t suspended_at = 0;
  std::vector<std::string> trail;  // every node entered, in order (the path taken, for the diagram)

  const Task* task(int id) const;
  const Token* token(int id) const;
  json::object to_json() const;
  static Instance from_json(const json::value& v);
};

struct Effect {
  enum class Kind {
    task_opened,
    task_closed,
    task_reassigned,
    timer_set,
    external_send,
    ended
  } kind;
  int task = 0;   // task effects
  int token = 0;  // timer_set
  std::string node;
  int64_t at = 0;  // timer_set: the due time
};

struct Event {
  enum class Kind {
    start,
    claim,
    complete,
    return_to,
    transfer,
    consult,
    withdraw,
    suspend,
    resume,
    timer,
    reopen
  };
  Kind kind = Kind::start;
  int task = 0;
  int token = 0;        // timer
  std::string outcome;  // complete
  std::string node;     // return_to
  Assignee to;          // transfer, consult
};

struct Context {
  json::object fields;  // the ticket's fields, which transition conditions read
  int64_t by = 0;       // the acting staff member (0: the system)
  int64_t now = 0;
  // Who may hold a task by one rule; `previous` is the handler whose step leads here (0: none).
  std::function<std::vector<Assignee>(const AssigneeRule&, int64_t previous)> resolve;
};

struct Step {
  Instance next;
  std::vector<Effect> effects;
};

// Throws Error: 409 (suspended, ended, task_closed, opinion_pending, cannot_withdraw,
// no_assignee), 403 (not_yours), 404 (no such task), 422 (invalid_outcome, invalid_return).
Step apply(const Definition& def, const Instance& state, const Event& event, const Context& ctx);

// What must always hold; empty when sound. The randomized tests call it after every event.
std::vector<std::string> check_invariants(const Definition& def, const Instance& state);

}  // namespace kefu::workflow
