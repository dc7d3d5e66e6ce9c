#pragma once
// One caller walking a flow. Pure and clock-free like the routing engine: the owner (the call
// center) executes the actions on its switch, feeds back digits, timeouts and adapter results,
// and stores the path (菜单记录). The session only ever waits for one thing: digits (with a
// timeout) or an adapter's answer; anything else runs straight through to the next wait or to
// an exit (queue, voicemail, transfer, hang-up, return to the agent).
#include <memory>

#include "ivr/flow.hpp"

namespace kefu::ivr {

struct Action {
  enum class Kind : uint8_t {
    play,     // prompt: a file name or text for TTS
    collect,  // wait for digits: min/max, timeout; the switch stops prompts on the first key
    adapter,  // call target (verify, balance, campaign, ...) with args; answer with
              // adapter_result() (campaign: "number" is the reception number, "campaign" its name)
    queue,    // exits: target = queue code
    voicemail,
    transfer,  // target = number
    hangup,
    back  // return to the agent who sent the caller here
  } kind;
  std::string prompt, target;
  int min_digits = 0, max_digits = 0;
  Millis timeout_ms = 0;
  std::map<std::string, std::string> args;
};

// One visited node: what the caller pressed there and how it ended (menu, collect: the digits;
// verify: ok/failed; exits: the queue or number).
struct Step {
  std::string node, input, result;
};

class Session {
 public:
  Session(std::shared_ptr<const Flow> flow, Facts facts);

  std::vector<Action> start(const std::string& node = "");  // "" = the flow's start
  std::vector<Action> digits(const std::string& d);
  std::vector<Action> timeout();
  std::vector<Action> adapter_result(bool ok, const std::map<std::string, std::string>& values);

  bool waiting_for_digits() const { return wait_ == Wait::digits; }
  bool waiting_for_adapter() const { return wait_ == Wait::adapter; }
  bool over() const { return wait_ == Wait::over; }
  const std::vector<Step>& path() const { return path_; }
  const Facts& facts() const { return facts_; }
  const std::string& node() const { return node_; }

 private:
  enum class Wait : uint8_t { none, digits, adapter, over };
  void enter(const std::string& id, std::vector<Action>& out);
  void run(std::vector<Action>& out);  // from node_ until a wait or an exit
  void prompt_menu(const Node& n, std::vector<Action>& out);
  void ask(const Node& n, const std::string& prompt, int min, int max, std::vector<Action>& out);
  void failed(const Node& n, std::vector<Action>& out);  // a retry, or on_fail
  void exit(Action a, const std::string& result, std::vector<Action>& out);
  std::string fill(const std::string& text) const;  // {var} from the facts

  std::shared_ptr<const Flow> flow_;
  Facts facts_;
  std::string node_;
  Wait wait_ = Wait::none;
  int tries_ = 0;
  int stage_ = 0;  // verify: 0 account, 1 pin
  int hops_ = 0;   // nodes run since the last wait: a loop without a wait is cut off
  std::vector<Step> path_;
};

}  // namespace kefu::ivr
