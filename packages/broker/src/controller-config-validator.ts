/**
 * The broker's config rules as the controller's ConfigValidator (@gregor/metadata): the
 * controller decides every config change, and checks the set a resource would have against the
 * same tables and checks the broker uses (topic configs with Kafka's types, validators and
 * compaction-lag rule; dynamic broker configs with Kafka's update modes). List-ness and defaults
 * (which APPEND and SUBTRACT start from) come from the same tables. A node that runs a controller
 * passes `controllerConfigValidator(view)` to its QuorumController. Pure over the view.
 */
import type { ConfigValidator } from '@gregor/metadata';
import { brokerConfigsByName } from './broker-config-table.js';
import type { BrokerConfigView } from './broker-config-view.js';
import { isProblem, validateBrokerConfigs, validateTopicConfigs } from './config-validation.js';
import { topicConfigsByName } from './topic-config-table.js';

const TOPIC = 2;

export function controllerConfigValidator(view: BrokerConfigView): ConfigValidator {
  const definition = (resourceType: number, name: string) => (resourceType === TOPIC ? topicConfigsByName.get(name) : brokerConfigsByName.get(name));
  return {
    validate(resource, configs) {
      const record = Object.fromEntries(configs);
      const checked = resource.resourceType === TOPIC ? validateTopicConfigs(record, view) : validateBrokerConfigs(record, resource.resourceName !== '');
      return isProblem(checked) ? { errorCode: checked.errorCode, message: checked.message } : null;
    },
    isList: (resourceType, name) => definition(resourceType, name)?.type === 'list',
    defaultValue: (resourceType, name) => definition(resourceType, name)?.default ?? null,
  };
}
