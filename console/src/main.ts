import { createApp } from 'vue';
import ElementPlus from 'element-plus';
import 'element-plus/dist/index.css';
import './style.css';
import App from './App.vue';
import { router } from './router.ts';
import { lang } from './i18n.ts';

document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en';
createApp(App).use(ElementPlus).use(router).mount('#app');
