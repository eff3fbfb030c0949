# An ansible-playbook stdout callback for the differential tests: the tasks in the order they
# started, each host's status, and the recap, as one JSON document (Debian's ansible-core ships
# no json callback).
import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: flow_json
    type: stdout
    short_description: tasks, host statuses and recap as JSON
    description: used by lvsrun's compatibility tests
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'flow_json'

    def __init__(self):
        super().__init__()
        self.steps = []

    def _start(self, task):
        self.steps.append([task.get_name(), {}])

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _host(self, result, status):
        if not self.steps:
            self.steps.append(['?', {}])
        self.steps[-1][1][result._host.get_name()] = status

    def v2_runner_on_ok(self, result):
        self._host(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._host(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._host(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        recap = {h: stats.summarize(h) for h in sorted(stats.processed.keys())}
        self._display.display(json.dumps({'steps': self.steps, 'stats': recap}))
