// Tablet width (768–1100 px): tables drop their least needed columns instead of scrolling sideways.
import { onBeforeUnmount, ref } from 'vue';

export function useNarrow(maxWidth = 1100) {
  const mq = window.matchMedia(`(max-width: ${maxWidth}px)`);
  const narrow = ref(mq.matches);
  const on = (e: MediaQueryListEvent) => { narrow.value = e.matches; };
  mq.addEventListener('change', on);
  onBeforeUnmount(() => mq.removeEventListener('change', on));
  return narrow;
}
