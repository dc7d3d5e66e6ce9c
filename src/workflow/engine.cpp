#include "workflow/engine.hpp"

#include <algorithm>

namespace kefu::workflow {

const char* to_string(TaskKind k) {
  switch (k) {
    case TaskKind::task:
      return "task";
    case TaskKind::approval:
      return "approval";
    case TaskKind::opinion:
      return "opinion";
    case TaskKind::external:
      return "external";
  }
  return "task";
}

const char* to_string(TaskStatus s) {
  switch (s) {
    case TaskStatus::open:
      return "open";
    case TaskStatus::started:
      return "started";
    case TaskStatus::done:
      return "done";
    case TaskStatus::cancelled:
      return "cancelled";
  }
  return "open";
}

const Task* Instance::task(int id) const {
  for (auto& t : tasks)
    if (t.id == id) return &t;
  return nullptr;
}

const Token* Instance::token(int id) const {
  for (auto& t : tokens)
    if (t.id == id) return &t;
  return nullptr;
}

namespace {

// One event's work on a copy of the state.
class Run {
 public:
  Run(const Definition& def, Instance s, const Context& ctx) : def_(def), ctx_(ctx) {
    step_.next = std::move(s);
  }

  Instance& st() { return step_.next; }
  Step take() { return std::move(step_); }

  Task& task(int id) {
    for (auto& t : st().tasks)
      if (t.id == id) return t;
    throw Error::not_found("no task " + std::to_string(id) + " on this ticket", "task");
  }
  Token& token(int id) {
    for (auto& t : st().tokens)
      if (t.id == id) return t;
    throw Error::internal("workflow token " + std::to_string(id) + " is gone");
  }
  void drop_token(int id) {
    auto& ts = st().tokens;
    ts.erase(std::remove_if(ts.begin(), ts.end(), [id](auto& t) { return t.id == id; }), ts.end());
  }
  Task& live_task(int id) {
    Task& t = task(id);
    if (!t.live())
      throw Error::conflict("task_closed",
                            "task " + std::to_string(id) + " is already " + to_string(t.status),
                            "task");
    return t;
  }
  void running() {
    if (st().status == "suspended")
      throw Error::conflict("suspended", "the ticket is suspended; resume it first");
    if (st().status == "ended") throw Error::conflict("ended", "the ticket's process has ended");
    if (st().status != "running")
      throw Error::conflict("not_started", "the ticket's process has not started");
  }

  int open_task(int token, const std::string& node, TaskKind kind, Assignee a, int opened_by,
                int parent = 0) {
    Task t;
    t.id = st().next_task++;
    t.token = token;
    t.node = node;
    t.kind = kind;
    t.assignee = std::move(a);
    t.opened_by = opened_by;
    t.parent = parent;
    st().tasks.push_back(t);
    step_.effects.push_back({Effect::Kind::task_opened, t.id, 0, node, 0});
    if (kind == TaskKind::external)
      step_.effects.push_back({Effect::Kind::external_send, t.id, 0, node, 0});
    return t.id;
  }
  void close_task(Task& t, TaskStatus how) {
    t.status = how;
    step_.effects.push_back({Effect::Kind::task_closed, t.id, 0, t.node, 0});
  }
  // Cancels the token's live tasks (its node's tasks and their opinions).
  void cancel_tasks_of(int token) {
    for (auto& t : st().tasks)
      if (t.token == token && t.live()) close_task(t, TaskStatus::cancelled);
  }

  std::vector<Assignee> resolve_all(const Node& n, int64_t previous) {
    std::vector<Assignee> out;
    for (auto& rule : n.assignees) {
      auto found = ctx_.resolve ? ctx_.resolve(rule, previous) : std::vector<Assignee>{};
      for (auto& a : found)
        if (!a.empty() && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
      if (n.type == NodeType::task && !out.empty())
        break;  // a task: the first rule that finds someone
    }
    if (out.empty())
      throw Error::conflict(
          "no_assignee",
          "nobody can take node " + n.name + " (" + n.id + "): no assignee rule finds anyone",
          "nodes." + n.id);
    return out;
  }

  // Leaves the token's node by the first transition whose condition holds, else the default.
  void leave(int token_id, const std::string& outcome, int64_t previous, int opened_by) {
    const std::string from = token(token_id).node;
    json::object fields = ctx_.fields;
    fields["outcome"] = outcome;
    const Transition* way = nullptr;
    for (auto* t : def_.out(from))
      if (t->when && t->when->eval(fields)) {
        way = t;
        break;
      }
    if (!way)
      for (auto* t : def_.out(from))
        if (!t->when) way = t;
    if (!way)
      throw Error::internal("node " + from + " has no way out");  // the definition check forbids it
    enter(token_id, way->to, outcome, previous, opened_by);
  }

  void enter(int token_id, const std::string& node_id, const std::string& outcome, int64_t previous,
             int opened_by) {
    if (++steps_ > 10'000) throw Error::internal("the workflow does not settle");
    const Node& n = def_.node(node_id);
    {
      Token& tk = token(token_id);
      tk.node = node_id;
      tk.path.push_back(node_id);
      tk.due_at = 0;
    }
    st().trail.push_back(node_id);
    switch (n.type) {
      case NodeType::start:
      case NodeType::condition:
        leave(token_id, outcome, previous, opened_by);
        return;
      case NodeType::task:
        open_task(token_id, node_id, TaskKind::task, resolve_all(n, previous).front(), opened_by);
        return;
      case NodeType::approval:
        for (auto& a : resolve_all(n, previous))
          open_task(token_id, node_id, TaskKind::approval, a, opened_by);
        return;
      case NodeType::external: {
        Assignee a;
        a.system = n.system;
        open_task(token_id, node_id, TaskKind::external, a, opened_by);
        return;
      }
      case NodeType::timer: {
        Token& tk = token(token_id);
        tk.due_at = ctx_.now + n.timer_ms;
        step_.effects.push_back({Effect::Kind::timer_set, 0, token_id, node_id, tk.due_at});
        return;
      }
      case NodeType::parallel: {
        drop_token(token_id);
        for (auto* t : def_.out(node_id)) {
          int child = st().next_token++;
          st().tokens.push_back(Token{child, node_id, {}, 0});
          enter(child, t->to, outcome, previous, opened_by);
          if (st().status == "ended") return;  // a branch reached an end: the whole ticket ended
        }
        return;
      }
      case NodeType::join: {
        drop_token(token_id);
        if (++st().arrivals[node_id] < def_.branches_of_join(node_id)) return;
        st().arrivals.erase(node_id);
        int merged = st().next_token++;
        st().tokens.push_back(Token{merged, node_id, {node_id}, 0});
        leave(merged, outcome, previous, opened_by);
        return;
      }
      case NodeType::end: {
        for (auto& t : st().tasks)
          if (t.live()) close_task(t, TaskStatus::cancelled);
        st().tokens.clear();
        st().arrivals.clear();
        st().status = "ended";
        st().end_node = node_id;
        step_.effects.push_back({Effect::Kind::ended, 0, 0, node_id, 0});
        return;
      }
    }
  }

  void start() {
    if (!st().status.empty())
      throw Error::conflict("already_started", "the process has already started");
    st().status = "running";
    int t = st().next_token++;
    st().tokens.push_back(Token{t, def_.start(), {}, 0});
    enter(t, def_.start(), "", ctx_.by, 0);
  }

  void complete(const Event& e) {
    running();
    Task& t = live_task(e.task);
    for (auto& o : st().tasks)
      if (o.parent == t.id && o.live())
        throw Error::conflict("opinion_pending", "an opinion asked on this task is still awaited",
                              "task");
    t.done_by = ctx_.by;
    if (t.kind == TaskKind::opinion) {
      t.outcome = e.outcome;
      close_task(t, TaskStatus::done);
      return;
    }
    const Node& n = def_.node(t.node);
    int token_id = t.token, done_id = t.id;
    std::string outcome = e.outcome.empty() ? "done" : e.outcome;
    if (t.kind == TaskKind::approval) {
      if (outcome != "approve" && outcome != "reject")
        throw Error::validation(
            {{"outcome", "invalid_outcome", "an approval's outcome is approve or reject"}});
      t.outcome = outcome;
      close_task(t, TaskStatus::done);
      bool decided = outcome == "reject" || !n.all_of;
      if (!decided) {
        for (auto& o : st().tasks)
          if (o.token == token_id && o.node == n.id && o.kind == TaskKind::approval && o.live())
            return;  // 会签: others to come
      }
      cancel_tasks_of(token_id);
    } else {
      t.outcome = outcome;
      close_task(t, TaskStatus::done);
    }
    size_t before = step_.effects.size();
    leave(token_id, outcome, ctx_.by, done_id);
    // 撤回 is possible while the move only opened tasks for this same token.
    const Token* tk = st().token(token_id);
    bool simple = tk && st().status == "running";
    for (size_t i = before; simple && i < step_.effects.size(); ++i) {
      auto& fx = step_.effects[i];
      if (fx.kind == Effect::Kind::task_opened)
        simple = task(fx.task).token == token_id && task(fx.task).kind != TaskKind::external;
      else if (fx.kind != Effect::Kind::task_closed)
        simple = false;
    }
    bool opened_any = false;
    for (auto& o : st().tasks) opened_any |= o.opened_by == done_id;
    task(done_id).withdrawable = simple && opened_any;
  }

  void withdraw(const Event& e) {
    running();
    Task& t = task(e.task);
    if (t.status != TaskStatus::done || t.kind == TaskKind::opinion)
      throw Error::conflict("cannot_withdraw", "only a completed task can be withdrawn", "task");
    if (t.done_by != ctx_.by)
      throw Error::forbidden("only who completed the task may withdraw it", "not_yours");
    bool ok = t.withdrawable && st().token(t.token);
    for (auto& o : st().tasks)
      if (o.opened_by == t.id && o.status != TaskStatus::open) ok = false;
    for (auto& o : st().tasks)
      if (o.token == t.token && o.live() && o.opened_by != t.id) ok = false;
    if (!ok)
      throw Error::conflict(
          "cannot_withdraw",
          "the next step has already been taken up; it can no longer be withdrawn", "task");
    Task again = t;
    task(e.task).withdrawable = false;
    cancel_tasks_of(again.token);
    Token& tk = token(again.token);
    while (!tk.path.empty() && tk.path.back() != again.node) tk.path.pop_back();
    tk.node = again.node;
    st().trail.push_back(again.node);
    open_task(again.token, again.node, again.kind, again.assignee, again.opened_by);
  }

  void return_to(const Event& e) {
    running();
    Task& t = live_task(e.task);
    if (t.kind == TaskKind::opinion || t.kind == TaskKind::external)
      throw Error::validation(
          {{"task", "invalid_return", "an opinion or an outside task cannot be returned"}});
    Token& tk = token(t.token);
    // The token's path ends at this node; the target is its last passage before it.
    auto here = tk.path.empty() ? tk.path.end() : tk.path.end() - 1;
    auto target = here;
    for (auto it = tk.path.begin(); it != here; ++it)
      if (*it == e.node) target = it;
    bool valid =
        def_.has(e.node) && target != here &&
        (def_.node(e.node).type == NodeType::task || def_.node(e.node).type == NodeType::approval);
    if (!valid)
      throw Error::validation({{"node", "invalid_return",
                                "a task returns to a task or approval node it came through"}});
    int token_id = t.token, from = t.id;
    t.done_by = ctx_.by;
    t.outcome = "returned";
    cancel_tasks_of(token_id);
    tk.path.erase(target, tk.path.end());
    enter(token_id, e.node, "returned", ctx_.by, from);
  }

  void apply(const Event& e) {
    switch (e.kind) {
      case Event::Kind::start:
        start();
        return;
      case Event::Kind::complete:
        complete(e);
        return;
      case Event::Kind::claim: {
        running();
        Task& t = live_task(e.task);
        if (t.kind == TaskKind::external)
          throw Error::conflict("external_task", "an outside system holds this task", "task");
        if (!ctx_.by) throw Error::forbidden("a task is claimed by a staff member", "not_yours");
        t.assignee = Assignee{ctx_.by, 0, {}};
        t.status = TaskStatus::started;
        return;
      }
      case Event::Kind::transfer: {
        running();
        Task& t = live_task(e.task);
        if (e.to.empty() || !e.to.system.empty())
          throw Error::validation(
              {{"to", "required",
                "a transfer names the staff member or unit that takes the task"}});
        t.assignee = e.to;
        t.status = TaskStatus::open;
        step_.effects.push_back({Effect::Kind::task_reassigned, t.id, 0, t.node, 0});
        return;
      }
      case Event::Kind::consult: {
        running();
        Task& t = live_task(e.task);
        if (t.kind == TaskKind::opinion || t.kind == TaskKind::external)
          throw Error::validation(
              {{"task", "invalid_consult", "opinions are asked from a task or an approval"}});
        if (e.to.empty() || !e.to.system.empty())
          throw Error::validation(
              {{"to", "required", "an opinion is asked from a staff member or a unit"}});
        open_task(t.token, t.node, TaskKind::opinion, e.to, 0, t.id);
        return;
      }
      case Event::Kind::return_to:
        return_to(e);
        return;
      case Event::Kind::withdraw:
        withdraw(e);
        return;
      case Event::Kind::suspend:
        running();
        st().status = "suspended";
        st().suspended_at = ctx_.now;
        return;
      case Event::Kind::resume: {
        if (st().status != "suspended")
          throw Error::conflict("not_suspended", "the ticket is not suspended");
        st().status = "running";
        int64_t paused = std::max<int64_t>(0, ctx_.now - st().suspended_at);
        st().suspended_at = 0;
        for (auto& tk : st().tokens)
          if (tk.due_at) {
            tk.due_at += paused;
            step_.effects.push_back({Effect::Kind::timer_set, 0, tk.id, tk.node, tk.due_at});
          }
        return;
      }
      case Event::Kind::timer: {
        running();
        const Token* tk = st().token(e.token);
        // A timer that no longer applies (the token moved, or resumed later) changes nothing.
        if (!tk || !tk->due_at || tk->due_at > ctx_.now) return;
        leave(e.token, "", 0, 0);
        return;
      }
      case Event::Kind::reopen: {
        if (st().status != "ended")
          throw Error::conflict("not_ended", "only a closed ticket can be reopened");
        std::string to = def_.reopen_to();
        if (to.empty())
          for (auto& n : st().trail)
            if (def_.node(n).type == NodeType::task || def_.node(n).type == NodeType::approval) {
              to = n;
              break;
            }
        if (to.empty())
          throw Error::conflict("cannot_reopen", "the process has no task to reopen at");
        st().status = "running";
        st().end_node.clear();
        int t = st().next_token++;
        st().tokens.push_back(Token{t, to, {}, 0});
        enter(t, to, "reopened", ctx_.by, 0);
        return;
      }
    }
  }

 private:
  const Definition& def_;
  const Context& ctx_;
  Step step_;
  int steps_ = 0;
};

json::object assignee_json(const Assignee& a) {
  json::object o;
  if (a.staff_id) o["staff_id"] = a.staff_id;
  if (a.group_id) o["group_id"] = a.group_id;
  if (!a.system.empty()) o["system"] = a.system;
  return o;
}

Assignee assignee_of(const json::object& o) {
  Assignee a;
  if (auto v = get_int(o, "staff_id")) a.staff_id = *v;
  if (auto v = get_int(o, "group_id")) a.group_id = *v;
  if (auto v = get_string(o, "system")) a.system = *v;
  return a;
}

}  // namespace

Step apply(const Definition& def, const Instance& state, const Event& event, const Context& ctx) {
  Run run(def, state, ctx);
  run.apply(event);
  return run.take();
}

std::vector<std::string> check_invariants(const Definition& def, const Instance& s) {
  std::vector<std::string> bad;
  auto say = [&](std::string m) { bad.push_back(std::move(m)); };
  if (s.status == "ended") {
    if (!s.tokens.empty()) say("an ended instance still has tokens");
    if (s.end_node.empty() || def.node(s.end_node).type != NodeType::end)
      say("the instance ended elsewhere than at an end node");
  } else if (s.status == "running" || s.status == "suspended") {
    if (s.tokens.empty()) say("a running instance has no token");
  }
  for (auto& tk : s.tokens) {
    const Node& n = def.node(tk.node);
    bool holds = false;
    for (auto& t : s.tasks)
      holds |= t.token == tk.id && t.node == tk.node && t.live() && t.kind != TaskKind::opinion;
    switch (n.type) {
      case NodeType::task:
      case NodeType::approval:
      case NodeType::external:
        if (!holds)
          say("token " + std::to_string(tk.id) + " waits at " + tk.node + " with no open task");
        break;
      case NodeType::timer:
        if (!tk.due_at)
          say("token " + std::to_string(tk.id) + " waits at timer " + tk.node +
              " with no due time");
        break;
      default:
        say("token " + std::to_string(tk.id) + " stopped at automatic node " + tk.node);
    }
  }
  for (auto& t : s.tasks) {
    if (!t.live()) continue;
    if (t.assignee.empty()) say("task " + std::to_string(t.id) + " has no assignee");
    if (!s.token(t.token))
      say("task " + std::to_string(t.id) + " is open on no token");
    else if (s.token(t.token)->node != t.node)
      say("task " + std::to_string(t.id) + " is open at a node its token left");
  }
  return bad;
}

json::object Instance::to_json() const {
  json::array toks, tsks, tr;
  for (auto& t : tokens) {
    json::array path;
    for (auto& p : t.path) path.emplace_back(p);
    toks.push_back(
        json::object{{"id", t.id}, {"node", t.node}, {"path", path}, {"due_at", t.due_at}});
  }
  for (auto& t : tasks)
    tsks.push_back(json::object{{"id", t.id},
                                {"token", t.token},
                                {"node", t.node},
                                {"kind", to_string(t.kind)},
                                {"status", to_string(t.status)},
                                {"assignee", assignee_json(t.assignee)},
                                {"outcome", t.outcome},
                                {"done_by", t.done_by},
                                {"opened_by", t.opened_by},
                                {"parent", t.parent},
                                {"withdrawable", t.withdrawable}});
  for (auto& n : trail) tr.emplace_back(n);
  json::object arr;
  for (auto& [k, v] : arrivals) arr[k] = v;
  return json::object{{"status", status},
                      {"tokens", toks},
                      {"tasks", tsks},
                      {"arrivals", arr},
                      {"next_task", next_task},
                      {"next_token", next_token},
                      {"end_node", end_node},
                      {"suspended_at", suspended_at},
                      {"trail", tr}};
}

Instance Instance::from_json(const json::value& v) {
  Instance s;
  if (!v.is_object()) return s;
  const auto& o = v.as_object();
  s.status = get_string(o, "status").value_or("");
  s.next_task = int(get_int(o, "next_task").value_or(1));
  s.next_token = int(get_int(o, "next_token").value_or(1));
  s.end_node = get_string(o, "end_node").value_or("");
  s.suspended_at = get_int(o, "suspended_at").value_or(0);
  if (auto it = o.find("tokens"); it != o.end())
    for (auto& x : it->value().as_array()) {
      const auto& t = x.as_object();
      Token tk{int(get_int(t, "id").value_or(0)),
               get_string(t, "node").value_or(""),
               {},
               get_int(t, "due_at").value_or(0)};
      for (auto& p : t.at("path").as_array()) tk.path.emplace_back(p.as_string());
      s.tokens.push_back(std::move(tk));
    }
  if (auto it = o.find("tasks"); it != o.end())
    for (auto& x : it->value().as_array()) {
      const auto& t = x.as_object();
      Task k;
      k.id = int(get_int(t, "id").value_or(0));
      k.token = int(get_int(t, "token").value_or(0));
      k.node = get_string(t, "node").value_or("");
      std::string kind = get_string(t, "kind").value_or("task"),
                  status = get_string(t, "status").value_or("open");
      for (TaskKind x2 :
           {TaskKind::task, TaskKind::approval, TaskKind::opinion, TaskKind::external})
        if (kind == to_string(x2)) k.kind = x2;
      for (TaskStatus x2 :
           {TaskStatus::open, TaskStatus::started, TaskStatus::done, TaskStatus::cancelled})
        if (status == to_string(x2)) k.status = x2;
      k.assignee = assignee_of(t.at("assignee").as_object());
      k.outcome = get_string(t, "outcome").value_or("");
      k.done_by = get_int(t, "done_by").value_or(0);
      k.opened_by = int(get_int(t, "opened_by").value_or(0));
      k.parent = int(get_int(t, "parent").value_or(0));
      k.withdrawable = t.contains("withdrawable") && t.at("withdrawable").is_bool() &&
                       t.at("withdrawable").as_bool();
      s.tasks.push_back(std::move(k));
    }
  if (auto it = o.find("arrivals"); it != o.end())
    for (auto& [k, n] : it->value().as_object())
      s.arrivals[std::string(k)] = int(n.to_number<int64_t>());
  if (auto it = o.find("trail"); it != o.end())
    for (auto& n : it->value().as_array()) s.trail.emplace_back(n.as_string());
  return s;
}

}  // namespace kefu::workflow
